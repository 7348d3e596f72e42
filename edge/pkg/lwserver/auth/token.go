package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// LegacyIssuer is the issuer of Secret-based ServiceAccount tokens.
const LegacyIssuer = "kubernetes/serviceaccount"

// signatureAlgorithms are those kube-apiserver's token verifier accepts.
var signatureAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.PS384, jose.PS512,
}

var (
	gvrPods            = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrSecrets         = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	gvrServiceAccounts = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	gvrNodes           = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
)

// TokenConfig configures the ServiceAccount token authenticator.
type TokenConfig struct {
	// Issuers accepted in "iss" (kube-apiserver's --service-account-issuer);
	// empty accepts only legacy Secret-based tokens. Required with Keys.
	Issuers []string
	// Audiences of which "aud" must name one (kube-apiserver's
	// --api-audiences); empty = Issuers, as kube-apiserver defaults it.
	Audiences []string
	// Keys returns the issuers' current public keys (PEM key files and/or
	// a JWKS, see LoadPublicKeys); called per verification, so it can
	// follow key rotation. Required.
	Keys func() []jose.JSONWebKey
	// Store holds the objects bound tokens name (pods, secrets,
	// serviceaccounts, nodes). Required.
	Store Store
	// Now is the clock; nil = time.Now.
	Now func() time.Time
	// CacheTTL bounds how long a verified token is reused without checking
	// its signature again (deletions of bound objects invalidate at once);
	// 0 = 10 s, kube-apiserver's token cache TTL.
	CacheTTL time.Duration
	// CacheSize bounds the cache entries (a token is ~1 KB); 0 = 2048.
	CacheSize int
}

// Tokens authenticates ServiceAccount bearer tokens offline. It follows the
// committed events (Publish) to drop cached tokens whose bound Pod, Secret,
// ServiceAccount or Node changed or went away.
type Tokens struct {
	cfg       TokenConfig
	issuers   map[string]bool
	audiences []string

	mu    sync.Mutex
	cache map[string]*tokenEntry
	byRef map[refKey]map[string]struct{}
}

type refKey struct {
	resource, namespace, name string
}

type tokenEntry struct {
	user    user.Info
	expires time.Time
	refs    []refKey
}

// NewTokens checks cfg and builds the authenticator.
func NewTokens(cfg TokenConfig) (*Tokens, error) {
	if cfg.Keys == nil || cfg.Store == nil {
		return nil, errors.New("auth: TokenConfig.Keys and Store are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 10 * time.Second
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 2048
	}
	t := &Tokens{cfg: cfg, issuers: map[string]bool{}, cache: map[string]*tokenEntry{}, byRef: map[refKey]map[string]struct{}{}}
	for _, iss := range cfg.Issuers {
		if iss == "" {
			return nil, errors.New("auth: empty issuer")
		}
		t.issuers[iss] = true
	}
	t.audiences = cfg.Audiences
	if len(t.audiences) == 0 {
		t.audiences = cfg.Issuers
	}
	return t, nil
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// AuthenticateRequest implements Authenticator. A bearer token that is not
// a valid ServiceAccount token is an error (401), as in kube-apiserver.
func (t *Tokens) AuthenticateRequest(r *http.Request) (user.Info, bool, error) {
	tok, ok := bearer(r)
	if !ok {
		return nil, false, nil
	}
	// The token itself is the cache key: hashing it with sha256 cost more
	// than the rest of authentication and authorization together.
	now := t.cfg.Now()
	t.mu.Lock()
	e := t.cache[tok]
	t.mu.Unlock()
	if e != nil && now.Before(e.expires) {
		return e.user, true, nil
	}
	e, err := t.verify(r.Context(), tok, now)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrUnauthorized, err)
	}
	t.remember(tok, e)
	return e.user, true, nil
}

// remember caches e (emptying the cache when full: a burst of distinct
// tokens costs signature checks, not memory).
func (t *Tokens) remember(tok string, e *tokenEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.cache) >= t.cfg.CacheSize {
		t.cache = map[string]*tokenEntry{}
		t.byRef = map[refKey]map[string]struct{}{}
	}
	t.cache[tok] = e
	for _, k := range e.refs {
		m := t.byRef[k]
		if m == nil {
			m = map[string]struct{}{}
			t.byRef[k] = m
		}
		m[tok] = struct{}{}
	}
}

// Publish implements event.Subscriber: a change or deletion of an object a
// cached token is bound to drops the token, so the next request checks the
// store again.
func (t *Tokens) Publish(events []event.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.byRef) == 0 {
		return
	}
	for i := range events {
		ev := &events[i]
		if ev.Type == watch.Added || ev.GVR.Group != "" {
			continue
		}
		k := refKey{ev.GVR.Resource, ev.Namespace, ev.Name}
		for tok := range t.byRef[k] {
			delete(t.cache, tok)
		}
		delete(t.byRef, k)
	}
}

// verify checks the signature and every claim rule; see claims.go.
func (t *Tokens) verify(ctx context.Context, tok string, now time.Time) (*tokenEntry, error) {
	parsed, err := jwt.ParseSigned(tok, signatureAlgorithms)
	if err != nil {
		return nil, fmt.Errorf("malformed token: %v", err)
	}
	var unsafe jwt.Claims
	if err := parsed.UnsafeClaimsWithoutVerification(&unsafe); err != nil {
		return nil, fmt.Errorf("malformed claims: %v", err)
	}
	legacy := unsafe.Issuer == LegacyIssuer
	if !legacy && !t.issuers[unsafe.Issuer] {
		return nil, fmt.Errorf("issuer %q is not one of the configured issuers", unsafe.Issuer)
	}
	var public jwt.Claims
	var private privateClaims
	if err := t.checkSignature(parsed, &public, &private); err != nil {
		return nil, err
	}
	if legacy {
		return t.validateLegacy(ctx, tok, &public, &private.legacyClaims)
	}
	return t.validateBound(ctx, now, &public, &private)
}

func (t *Tokens) checkSignature(parsed *jwt.JSONWebToken, dest ...any) error {
	kid := ""
	if len(parsed.Headers) > 0 {
		kid = parsed.Headers[0].KeyID
	}
	keys := t.cfg.Keys()
	for i := range keys {
		if kid != "" && keys[i].KeyID != "" && keys[i].KeyID != kid {
			continue
		}
		if err := parsed.Claims(keys[i].Key, dest...); err == nil {
			return nil
		}
	}
	return errors.New("invalid signature: no configured key verifies the token")
}

// privateClaims are the claims kube-apiserver's token issuer writes: the
// bound form under "kubernetes.io", the legacy form as flat keys.
type privateClaims struct {
	Kubernetes *kubernetesClaims `json:"kubernetes.io,omitempty"`
	legacyClaims
}

type kubernetesClaims struct {
	Namespace string `json:"namespace"`
	Svcacct   ref    `json:"serviceaccount"`
	Pod       *ref   `json:"pod,omitempty"`
	Secret    *ref   `json:"secret,omitempty"`
	Node      *ref   `json:"node,omitempty"`
}

type ref struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

type legacyClaims struct {
	Namespace          string `json:"kubernetes.io/serviceaccount/namespace"`
	SecretName         string `json:"kubernetes.io/serviceaccount/secret.name"`
	ServiceAccountName string `json:"kubernetes.io/serviceaccount/service-account.name"`
	ServiceAccountUID  string `json:"kubernetes.io/serviceaccount/service-account.uid"`
}

// storedUID returns the metadata.uid of a stored object, found=false when
// the store does not hold it.
func (t *Tokens) storedObject(ctx context.Context, gvr schema.GroupVersionResource, ns, name string) ([]byte, bool, error) {
	o, err := t.cfg.Store.Get(ctx, metaclient.Key{GVR: gvr, Namespace: ns, Name: name})
	if errors.Is(err, metaclient.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading %s %s/%s: %v", gvr.Resource, ns, name, err)
	}
	return o.Data, true, nil
}

func uidOf(data []byte) string {
	var m struct {
		Metadata struct {
			UID string `json:"uid"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(data, &m)
	return m.Metadata.UID
}

// newServiceAccountUser is the user kube-apiserver makes of a token.
func newServiceAccountUser(ns, name, uid string, extra map[string][]string) user.Info {
	return &user.DefaultInfo{
		Name:   serviceaccount.MakeUsername(ns, name),
		UID:    uid,
		Groups: []string{GroupServiceAccounts, GroupServiceAccounts + ":" + ns, GroupAuthenticated},
		Extra:  extra,
	}
}
