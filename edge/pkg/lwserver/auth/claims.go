package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
)

// The claim rules of kube-apiserver's ServiceAccount token validators
// (pkg/serviceaccount/claims.go and legacy.go), checked after the
// signature. Every rule's failure is an error (the request gets 401).

// validateBound checks a bound (TokenRequest / projected) token: time
// claims with jwt's default leeway (1 minute, as kube-apiserver), an
// audience among the configured ones, the subject matching the private
// claims, and the bound objects: a bound Pod or Secret must be in the store
// with the token's UID (a deleted pod's token stops working once the
// deletion reaches the node); the ServiceAccount and Node must match when
// the store holds them (nodes are not always sent them).
func (t *Tokens) validateBound(ctx context.Context, now time.Time, public *jwt.Claims, private *privateClaims) (*tokenEntry, error) {
	switch err := public.Validate(jwt.Expected{Time: now}); {
	case errors.Is(err, jwt.ErrExpired):
		return nil, errors.New("service account token has expired")
	case errors.Is(err, jwt.ErrNotValidYet):
		return nil, errors.New("service account token is not valid yet")
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return nil, errors.New("service account token is issued in the future")
	case err != nil:
		return nil, err
	}
	if !audienceMatches(public.Audience, t.audiences) {
		return nil, fmt.Errorf("token audiences %q is invalid for the target audiences %q", []string(public.Audience), t.audiences)
	}
	k := private.Kubernetes
	if k == nil {
		return nil, errors.New("token could not be validated: no kubernetes.io claims")
	}
	if k.Namespace == "" || k.Svcacct.Name == "" || k.Svcacct.UID == "" {
		return nil, errors.New("token could not be validated: namespace or serviceaccount claim missing")
	}
	if public.Subject != serviceaccount.MakeUsername(k.Namespace, k.Svcacct.Name) {
		return nil, fmt.Errorf("subject %q does not match the serviceaccount claims", public.Subject)
	}
	e := &tokenEntry{refs: []refKey{{gvrServiceAccounts.Resource, k.Namespace, k.Svcacct.Name}}}
	if err := t.checkRef(ctx, gvrServiceAccounts.Resource, k.Namespace, k.Svcacct, false); err != nil {
		return nil, err
	}
	extra := map[string][]string{}
	if k.Pod != nil {
		if err := t.checkRef(ctx, gvrPods.Resource, k.Namespace, *k.Pod, true); err != nil {
			return nil, err
		}
		e.refs = append(e.refs, refKey{gvrPods.Resource, k.Namespace, k.Pod.Name})
		extra[ExtraPodName] = []string{k.Pod.Name}
		extra[ExtraPodUID] = []string{k.Pod.UID}
	}
	if k.Secret != nil {
		if err := t.checkRef(ctx, gvrSecrets.Resource, k.Namespace, *k.Secret, true); err != nil {
			return nil, err
		}
		e.refs = append(e.refs, refKey{gvrSecrets.Resource, k.Namespace, k.Secret.Name})
	}
	if k.Node != nil {
		if err := t.checkRef(ctx, gvrNodes.Resource, "", *k.Node, false); err != nil {
			return nil, err
		}
		e.refs = append(e.refs, refKey{gvrNodes.Resource, "", k.Node.Name})
		extra[ExtraNodeName] = []string{k.Node.Name}
		if k.Node.UID != "" {
			extra[ExtraNodeUID] = []string{k.Node.UID}
		}
	}
	if public.ID != "" {
		extra[ExtraCredentialID] = []string{"JTI=" + public.ID}
	}
	if len(extra) == 0 {
		extra = nil
	}
	e.user = newServiceAccountUser(k.Namespace, k.Svcacct.Name, k.Svcacct.UID, extra)
	e.expires = now.Add(t.cfg.CacheTTL)
	if public.Expiry != nil && public.Expiry.Time().Add(jwt.DefaultLeeway).Before(e.expires) {
		e.expires = public.Expiry.Time().Add(jwt.DefaultLeeway)
	}
	return e, nil
}

// checkRef checks a bound object's UID against the store; required says a
// missing object is an error (else only a different UID is).
func (t *Tokens) checkRef(ctx context.Context, resource, ns string, r ref, required bool) error {
	data, found, err := t.storedObject(ctx, schema.GroupVersionResource{Version: "v1", Resource: resource}, ns, r.Name)
	kind := resource[:len(resource)-1]
	switch {
	case err != nil:
		return err
	case !found && required:
		return fmt.Errorf("%s %q (bound to the token) is not on this node", kind, nsName(ns, r.Name))
	case found && r.UID != "" && uidOf(data) != r.UID:
		return fmt.Errorf("%s %q UID (%s) does not match the token's (%s)", kind, nsName(ns, r.Name), uidOf(data), r.UID)
	}
	return nil
}

func nsName(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// validateLegacy checks a Secret-based token: accepted only while its
// Secret is in the store and holds this very token (kube-apiserver's
// legacy validator with lookup), and the ServiceAccount, when stored, has
// the token's UID. Legacy tokens carry no audience and no expiry.
func (t *Tokens) validateLegacy(ctx context.Context, tok string, public *jwt.Claims, c *legacyClaims) (*tokenEntry, error) {
	if c.Namespace == "" || c.SecretName == "" || c.ServiceAccountName == "" || c.ServiceAccountUID == "" {
		return nil, errors.New("token could not be validated: legacy claims missing")
	}
	if public.Subject != serviceaccount.MakeUsername(c.Namespace, c.ServiceAccountName) {
		return nil, fmt.Errorf("subject %q does not match the serviceaccount claims", public.Subject)
	}
	data, found, err := t.storedObject(ctx, gvrSecrets, c.Namespace, c.SecretName)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("token's secret %s/%s is not on this node (deleted?)", c.Namespace, c.SecretName)
	}
	var secret struct {
		Data map[string]string `json:"data"`
	}
	if err := json.Unmarshal(data, &secret); err != nil {
		return nil, fmt.Errorf("secret %s/%s: %v", c.Namespace, c.SecretName, err)
	}
	stored, err := base64.StdEncoding.DecodeString(secret.Data["token"])
	if err != nil || string(stored) != tok {
		return nil, fmt.Errorf("token does not match the one in secret %s/%s", c.Namespace, c.SecretName)
	}
	if err := t.checkRef(ctx, gvrServiceAccounts.Resource, c.Namespace, ref{Name: c.ServiceAccountName, UID: c.ServiceAccountUID}, false); err != nil {
		return nil, err
	}
	return &tokenEntry{
		user:    newServiceAccountUser(c.Namespace, c.ServiceAccountName, c.ServiceAccountUID, nil),
		expires: t.cfg.Now().Add(t.cfg.CacheTTL),
		refs: []refKey{{gvrSecrets.Resource, c.Namespace, c.SecretName},
			{gvrServiceAccounts.Resource, c.Namespace, c.ServiceAccountName}},
	}, nil
}

func audienceMatches(aud jwt.Audience, accepted []string) bool {
	for _, a := range accepted {
		if aud.Contains(a) {
			return true
		}
	}
	return false
}
