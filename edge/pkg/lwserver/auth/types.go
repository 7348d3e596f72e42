// Package auth authenticates and authorizes lwserver's requests offline, the
// way kube-apiserver does (docs/security.md):
//
//   - authentication, first that succeeds: x509 client certificates against
//     the client CAs (user = CN, groups = O), ServiceAccount bearer tokens
//     verified against the issuers' public keys, then anonymous (when
//     enabled). Bad credentials are a 401, never a fall-through to anonymous.
//   - authorization: kube-apiserver's RBAC rule semantics over the Roles,
//     ClusterRoles, RoleBindings and ClusterRoleBindings the store holds plus
//     kube-apiserver's bootstrap read roles, from an index that follows the
//     committed-event stream (no store query per request).
package auth

import (
	"context"
	"errors"
	"net/http"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// Well-known names (k8s.io/apiserver/pkg/authentication/user and
// serviceaccount).
const (
	UserAnonymous            = user.Anonymous             // system:anonymous
	GroupUnauthenticated     = user.AllUnauthenticated    // system:unauthenticated
	GroupAuthenticated       = user.AllAuthenticated      // system:authenticated
	GroupMasters             = user.SystemPrivilegedGroup // system:masters
	GroupServiceAccounts     = "system:serviceaccounts"
	GroupMonitoring          = user.MonitoringGroup // system:monitoring
	ServiceAccountUserPrefix = "system:serviceaccount:"

	// Extra keys kube-apiserver sets for ServiceAccount tokens.
	ExtraPodName      = "authentication.kubernetes.io/pod-name"
	ExtraPodUID       = "authentication.kubernetes.io/pod-uid"
	ExtraNodeName     = "authentication.kubernetes.io/node-name"
	ExtraNodeUID      = "authentication.kubernetes.io/node-uid"
	ExtraCredentialID = "authentication.kubernetes.io/credential-id"
)

// ErrUnauthorized is what an authenticator returns for credentials that
// were presented and are not valid (the request gets 401, whatever the
// other authenticators would say). Wrapped errors say why (logged, never
// sent: kube-apiserver answers just "Unauthorized").
var ErrUnauthorized = errors.New("Unauthorized")

// Authenticator identifies the user of a request. ok=false with err=nil
// means "no credentials of my kind": the next authenticator is asked.
type Authenticator interface {
	AuthenticateRequest(r *http.Request) (u user.Info, ok bool, err error)
}

// Authorizer decides one request's attributes.
type Authorizer interface {
	Authorize(ctx context.Context, a authorizer.Attributes) (authorizer.Decision, string, error)
}

// Store is what auth reads of the store: single objects (bound-token
// checks) and whole collections (the RBAC index's initial load). It is
// satisfied by *metaclient.Client.
type Store interface {
	Get(ctx context.Context, key metaclient.Key) (metaclient.Object, error)
	ListFunc(ctx context.Context, gvr schema.GroupVersionResource, opts metaclient.ListOptions, fn func(rev int64, item metaclient.Object) error) (metaclient.ListResult, error)
}
