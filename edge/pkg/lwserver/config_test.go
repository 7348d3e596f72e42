package lwserver

import (
	"strings"
	"testing"
)

// TestConfigCheck: settings New cannot serve with are refused with a
// message naming the key.
func TestConfigCheck(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"defaults", func(*Config) {}, ""},
		{"insecure loopback v4", func(c *Config) { c.InsecureAddress = "127.0.0.1:10551" }, ""},
		{"insecure loopback v6", func(c *Config) { c.InsecureAddress = "[::1]:10551" }, ""},
		{"insecure localhost", func(c *Config) { c.InsecureAddress = "localhost:10551" }, ""},
		{"insecure wildcard", func(c *Config) { c.InsecureAddress = "0.0.0.0:10551" }, "is not a loopback address"},
		{"insecure empty host", func(c *Config) { c.InsecureAddress = ":10551" }, "is not a loopback address"},
		{"insecure node address", func(c *Config) { c.InsecureAddress = "10.0.0.5:10551" }, "is not a loopback address"},
		{"cert without key", func(c *Config) { c.TLS.CertFile = "/x.crt" }, "tls.certFile and tls.keyFile go together"},
		{"keys without issuers", func(c *Config) { c.Authentication.ServiceAccountKeyFiles = []string{"/k"} }, "needs serviceAccountIssuers"},
		{"bad extra address", func(c *Config) { c.ExtraAddresses = []string{"nohostport"} }, `address "nohostport"`},
	}
	for _, tc := range cases {
		cfg := DefaultConfig()
		tc.edit(&cfg)
		err := cfg.check()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
