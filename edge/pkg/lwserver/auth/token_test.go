package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
)

const testIssuer = "https://kubernetes.default.svc.cluster.local"

var testNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// testKeys are generated once: RSA key generation is slow.
var testKeys = sync.OnceValues(func() (*rsa.PrivateKey, *ecdsa.PrivateKey) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return key, other
})

type tokenFixture struct {
	store  *fakeStore
	tokens *Tokens
	key    *rsa.PrivateKey
	other  *ecdsa.PrivateKey
}

func newTokenFixture(t testing.TB) *tokenFixture {
	t.Helper()
	key, other := testKeys()
	f := &tokenFixture{store: newFakeStore(), key: key, other: other}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	keys, err := ParsePublicKeys(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	f.tokens, err = NewTokens(TokenConfig{Issuers: []string{testIssuer, "https://other-issuer"}, Audiences: []string{"api", testIssuer},
		Keys: func() []jose.JSONWebKey { return keys }, Store: f.store, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	f.store.put(t, gvrServiceAccounts, "team", "app", &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "app", UID: "sa-uid"}})
	f.store.put(t, gvrPods, "team", "web", &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "web", UID: "pod-uid"}})
	f.store.put(t, gvrSecrets, "team", "bound", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "bound", UID: "secret-uid"}})
	f.store.put(t, gvrNodes, "", "edge-1", &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "edge-1", UID: "node-uid"}})
	return f
}

// claims is a bound token's claim set as kube-apiserver's TokenRequest
// writes it for a pod's projected token.
func boundClaims() map[string]any {
	return map[string]any{
		"iss": testIssuer, "sub": "system:serviceaccount:team:app", "aud": []string{"api"},
		"exp": testNow.Add(time.Hour).Unix(), "iat": testNow.Add(-time.Minute).Unix(), "nbf": testNow.Add(-time.Minute).Unix(),
		"jti": "jti-1",
		"kubernetes.io": map[string]any{
			"namespace":      "team",
			"serviceaccount": map[string]any{"name": "app", "uid": "sa-uid"},
			"pod":            map[string]any{"name": "web", "uid": "pod-uid"},
			"node":           map[string]any{"name": "edge-1", "uid": "node-uid"},
		},
	}
}

func sign(t testing.TB, key any, alg jose.SignatureAlgorithm, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *tokenFixture) auth(t *testing.T, tok string) (user.Info, bool, error) {
	t.Helper()
	r := httptest.NewRequest("GET", "/api/v1/pods", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return f.tokens.AuthenticateRequest(r)
}

// TestTokenClaimRules: one case per claim rule kube-apiserver checks.
func TestTokenClaimRules(t *testing.T) {
	set := func(k string, v any) func(map[string]any) { return func(c map[string]any) { c[k] = v } }
	kube := func(k string, v any) func(map[string]any) {
		return func(c map[string]any) { c["kubernetes.io"].(map[string]any)[k] = v }
	}
	cases := []struct {
		name    string
		mutate  func(map[string]any)
		other   bool // signed by a key that is not configured
		wantErr string
	}{
		{"valid", nil, false, ""},
		{"second configured issuer", set("iss", "https://other-issuer"), false, ""},
		{"audience is an issuer (default audiences)", set("aud", []string{testIssuer}), false, ""},
		{"expired within leeway", set("exp", testNow.Add(-30*time.Second).Unix()), false, ""},
		{"expired", set("exp", testNow.Add(-2*time.Minute).Unix()), false, "has expired"},
		{"not valid yet", set("nbf", testNow.Add(2*time.Minute).Unix()), false, "not valid yet"},
		{"issued in the future", set("iat", testNow.Add(2*time.Minute).Unix()), false, "issued in the future"},
		{"other key", nil, true, "invalid signature"},
		{"wrong audience", set("aud", []string{"vault"}), false, `token audiences ["vault"] is invalid`},
		{"no audience", set("aud", []string{}), false, "token audiences"},
		{"wrong issuer", set("iss", "https://evil"), false, `issuer "https://evil" is not one of the configured issuers`},
		{"no kubernetes.io claims", func(c map[string]any) { delete(c, "kubernetes.io") }, false, "no kubernetes.io claims"},
		{"subject mismatch", set("sub", "system:serviceaccount:team:admin"), false, "does not match the serviceaccount claims"},
		{"serviceaccount uid mismatch", kube("serviceaccount", map[string]any{"name": "app", "uid": "old"}), false, `serviceaccount "team/app" UID`},
		{"pod uid mismatch (recreated pod)", kube("pod", map[string]any{"name": "web", "uid": "old"}), false, `pod "team/web" UID`},
		{"pod not on this node", kube("pod", map[string]any{"name": "gone", "uid": "x"}), false, `pod "team/gone" (bound to the token) is not on this node`},
		{"secret-bound", kube("secret", map[string]any{"name": "bound", "uid": "secret-uid"}), false, ""},
		{"secret-bound, secret gone", kube("secret", map[string]any{"name": "gone", "uid": "x"}), false, `secret "team/gone" (bound to the token) is not on this node`},
		{"node uid mismatch", kube("node", map[string]any{"name": "edge-1", "uid": "other"}), false, `node "edge-1" UID`},
		{"node not stored is accepted", kube("node", map[string]any{"name": "edge-2", "uid": "n2"}), false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newTokenFixture(t)
			claims := boundClaims()
			if c.mutate != nil {
				c.mutate(claims)
			}
			var tok string
			if c.other {
				tok = sign(t, f.other, jose.ES256, claims)
			} else {
				tok = sign(t, f.key, jose.RS256, claims)
			}
			u, ok, err := f.auth(t, tok)
			if c.wantErr == "" {
				if err != nil || !ok {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if err == nil || ok || !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("got user=%v ok=%v err=%v, want an Unauthorized error with %q", u, ok, err, c.wantErr)
			}
		})
	}
}

// TestTokenUser: the user, groups and extras kube-apiserver sets.
func TestTokenUser(t *testing.T) {
	f := newTokenFixture(t)
	u, ok, err := f.auth(t, sign(t, f.key, jose.RS256, boundClaims()))
	if err != nil || !ok {
		t.Fatal(err)
	}
	if u.GetName() != "system:serviceaccount:team:app" || u.GetUID() != "sa-uid" {
		t.Fatalf("user %q uid %q", u.GetName(), u.GetUID())
	}
	if g := strings.Join(u.GetGroups(), ","); g != "system:serviceaccounts,system:serviceaccounts:team,system:authenticated" {
		t.Fatalf("groups %s", g)
	}
	want := map[string]string{ExtraPodName: "web", ExtraPodUID: "pod-uid", ExtraNodeName: "edge-1", ExtraNodeUID: "node-uid", ExtraCredentialID: "JTI=jti-1"}
	for k, v := range want {
		if got := u.GetExtra()[k]; len(got) != 1 || got[0] != v {
			t.Errorf("extra %s = %v, want %s", k, got, v)
		}
	}
}

// TestTokenDeletedPod: a cached token stops working as soon as the
// deletion of its pod is published; until then the cache spares the store.
func TestTokenDeletedPod(t *testing.T) {
	f := newTokenFixture(t)
	tok := sign(t, f.key, jose.RS256, boundClaims())
	if _, _, err := f.auth(t, tok); err != nil {
		t.Fatal(err)
	}
	gets := f.store.gets
	if _, _, err := f.auth(t, tok); err != nil || f.store.gets != gets {
		t.Fatalf("second request: err=%v, store reads %d (want 0: cached)", err, f.store.gets-gets)
	}
	f.tokens.Publish([]event.Event{f.store.del(gvrPods, "team", "web")})
	if _, _, err := f.auth(t, tok); err == nil || !strings.Contains(err.Error(), "not on this node") {
		t.Fatalf("token of a deleted pod: %v", err)
	}
	// A pod of the same name with a new UID does not revive it.
	f.tokens.Publish([]event.Event{f.store.put(t, gvrPods, "team", "web", &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "web", UID: "new"}})})
	if _, _, err := f.auth(t, tok); err == nil {
		t.Fatal("token accepted for a recreated pod")
	}
}

// TestTokenCacheExpiry: a cached token is not used past its expiry.
func TestTokenCacheExpiry(t *testing.T) {
	f := newTokenFixture(t)
	now := testNow
	f.tokens.cfg.Now = func() time.Time { return now }
	c := boundClaims()
	c["exp"] = testNow.Add(5 * time.Second).Unix()
	tok := sign(t, f.key, jose.RS256, c)
	if _, _, err := f.auth(t, tok); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	if _, _, err := f.auth(t, tok); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired cached token: %v", err)
	}
}

// TestLegacyToken: a Secret-based token works only while its Secret is in
// the store and holds this token.
func TestLegacyToken(t *testing.T) {
	f := newTokenFixture(t)
	claims := map[string]any{
		"iss": LegacyIssuer, "sub": "system:serviceaccount:team:app",
		"kubernetes.io/serviceaccount/namespace":            "team",
		"kubernetes.io/serviceaccount/secret.name":          "app-token",
		"kubernetes.io/serviceaccount/service-account.name": "app",
		"kubernetes.io/serviceaccount/service-account.uid":  "sa-uid",
	}
	tok := sign(t, f.key, jose.RS256, claims)
	if _, _, err := f.auth(t, tok); err == nil || !strings.Contains(err.Error(), "not on this node") {
		t.Fatalf("legacy token without its secret: %v", err)
	}
	secret := func(token string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "app-token", UID: types.UID("s")},
			Type: corev1.SecretTypeServiceAccountToken, Data: map[string][]byte{"token": []byte(token)}}
	}
	f.store.put(t, gvrSecrets, "team", "app-token", secret("another"))
	if _, _, err := f.auth(t, tok); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("legacy token not the secret's: %v", err)
	}
	f.tokens.Publish([]event.Event{f.store.put(t, gvrSecrets, "team", "app-token", secret(tok))})
	u, ok, err := f.auth(t, tok)
	if err != nil || !ok || u.GetName() != "system:serviceaccount:team:app" {
		t.Fatalf("legacy token with its secret: %v %v", u, err)
	}
	f.tokens.Publish([]event.Event{f.store.del(gvrSecrets, "team", "app-token")})
	if _, _, err := f.auth(t, tok); err == nil {
		t.Fatal("legacy token accepted after its secret was deleted")
	}
}

func TestTokenNotABearer(t *testing.T) {
	f := newTokenFixture(t)
	for _, h := range []string{"", "Basic dXNlcjpwYXNz", "Bearer "} {
		r := httptest.NewRequest("GET", "/", nil)
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		if u, ok, err := f.tokens.AuthenticateRequest(r); ok || err != nil || u != nil {
			t.Errorf("%q: %v %v %v, want not handled", h, u, ok, err)
		}
	}
	if _, _, err := f.auth(t, "not.a.jwt"); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("garbage token: %v", err)
	}
}

// TestJWKSKeys: a JWKS file's keys verify tokens whose kid names them.
func TestJWKSKeys(t *testing.T) {
	f := newTokenFixture(t)
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &f.other.PublicKey, KeyID: "k2", Algorithm: "ES256", Use: "sig"}}}
	b, _ := json.Marshal(set)
	keys, err := ParsePublicKeys(b)
	if err != nil || len(keys) != 1 || keys[0].KeyID != "k2" {
		t.Fatalf("%v %v", keys, err)
	}
	f.tokens.cfg.Keys = func() []jose.JSONWebKey { return keys }
	s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: f.other, KeyID: "k2"}}, nil)
	tok, _ := jwt.Signed(s).Claims(boundClaims()).Serialize()
	if _, ok, err := f.auth(t, tok); !ok || err != nil {
		t.Fatalf("JWKS key: %v", err)
	}
	if _, err := ParsePublicKeys([]byte("-----BEGIN NOTHING-----\n" + base64.StdEncoding.EncodeToString([]byte("x")) + "\n-----END NOTHING-----\n")); err == nil {
		t.Fatal("a file without keys parsed")
	}
}
