package auth

import (
	"net/http"

	"k8s.io/apiserver/pkg/authentication/user"
)

// Union asks authenticators in order; the first that identifies the user
// wins, the first error ends the request with 401. A request that no
// authenticator identifies is anonymous when allowed, except that a
// request presenting a bearer token or client certificate nobody accepted
// is a 401 (kube-apiserver never lets bad credentials fall through).
type Union struct {
	Authenticators []Authenticator
	// Anonymous lets requests without credentials through as
	// system:anonymous (RBAC decides what it may do: by default the health
	// and version endpoints, through system:public-info-viewer).
	Anonymous bool
}

// AnonymousUser is who a request without credentials is.
func AnonymousUser() user.Info {
	return &user.DefaultInfo{Name: UserAnonymous, Groups: []string{GroupUnauthenticated}}
}

// AuthenticateRequest implements Authenticator.
func (u *Union) AuthenticateRequest(r *http.Request) (user.Info, bool, error) {
	for _, a := range u.Authenticators {
		info, ok, err := a.AuthenticateRequest(r)
		if err != nil {
			return nil, false, err
		}
		if ok {
			return info, true, nil
		}
	}
	if _, ok := bearer(r); ok {
		return nil, false, ErrUnauthorized
	}
	if !u.Anonymous {
		return nil, false, nil
	}
	return AnonymousUser(), true, nil
}
