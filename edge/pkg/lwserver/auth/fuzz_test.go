package auth

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// FuzzTokens: any bearer token is either rejected with an Unauthorized
// error or is a token the test signed; nothing panics.
func FuzzTokens(f *testing.F) {
	fx := newTokenFixture(f)
	valid := sign(f, fx.key, jose.RS256, boundClaims())
	parts := strings.Split(valid, ".")
	for _, s := range []string{valid, "", "a.b.c", parts[0] + "." + parts[1] + ".", parts[0] + ".e30." + parts[2],
		"eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJIUzI1NiJ9.e30.AAAA", strings.Repeat("A", 5000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		r := httptest.NewRequest("GET", "/api", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		u, ok, err := fx.tokens.AuthenticateRequest(r)
		switch {
		case ok && err == nil:
			if strings.TrimSpace(tok) != valid || u.GetName() != "system:serviceaccount:team:app" {
				t.Fatalf("accepted %q as %v", tok, u)
			}
		case err != nil:
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("error %v is not Unauthorized", err)
			}
		}
	})
}

// FuzzParsePublicKeys: key files of any content parse or fail cleanly.
func FuzzParsePublicKeys(f *testing.F) {
	for _, s := range []string{"", "{}", `{"keys":[]}`, `{"keys":[{"kty":"RSA"}]}`,
		"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
		"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := ParsePublicKeys(b)
		if err == nil && len(keys) == 0 {
			t.Fatal("no error and no keys")
		}
	})
}
