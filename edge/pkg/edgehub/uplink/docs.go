package uplink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Documents the uplink keeps for lwserver to serve (or use) offline. The
// document at URL path P is stored as <DocsDir>/P.json (docs/uplink.md), so
// /openid/v1/jwks is <DocsDir>/openid/v1/jwks.json.
const (
	JWKSPath          = "/openid/v1/jwks"
	OpenIDConfigPath  = "/.well-known/openid-configuration"
	maxDocumentBytes  = 64 << 20
	openAPIV3Index    = "/openapi/v3"
	openAPIV2         = "/openapi/v2"
	discoveryRootCore = "/api"
	discoveryRootApis = "/apis"
)

// DocumentFile is where the document at URL path p is stored under dir.
func DocumentFile(dir, p string) string {
	return filepath.Join(dir, filepath.FromSlash(path.Clean("/" + p)[1:])+".json")
}

// docFetcher copies the cloud's documents into dir.
type docFetcher struct {
	client *http.Client
	host   string // https://host:port, no trailing slash
	dir    string
	report func(error)
}

// fetchAll copies the issuer keys, the version, legacy discovery of every
// group version and the OpenAPI v2 and v3 documents. A document that fails
// is reported and skipped (the others are still copied); the first error is
// returned.
func (f *docFetcher) fetchAll(ctx context.Context) (n int, firstErr error) {
	note := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	paths := []string{JWKSPath, OpenIDConfigPath, "/version", discoveryRootCore, discoveryRootApis, openAPIV2, openAPIV3Index}
	for _, p := range paths {
		body, err := f.copy(ctx, p)
		note(err)
		if err != nil {
			continue
		}
		n++
		more, err := followUps(p, body)
		note(err)
		for _, q := range more {
			_, err := f.copy(ctx, q)
			note(err)
			if err == nil {
				n++
			}
		}
	}
	return n, firstErr
}

// followUps are the documents a discovery root or the OpenAPI v3 index
// points to: /api/<v>, /apis/<g>/<v>, /openapi/v3/<gv>.
func followUps(p string, body []byte) ([]string, error) {
	switch p {
	case discoveryRootCore:
		var v struct{ Versions []string }
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		var out []string
		for _, ver := range v.Versions {
			out = append(out, "/api/"+ver)
		}
		return out, nil
	case discoveryRootApis:
		var v struct {
			Groups []struct {
				Versions []struct{ GroupVersion string }
			}
		}
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		var out []string
		for _, g := range v.Groups {
			for _, gv := range g.Versions {
				out = append(out, "/apis/"+gv.GroupVersion)
			}
		}
		return out, nil
	case openAPIV3Index:
		var v struct{ Paths map[string]json.RawMessage }
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		var out []string
		for gv := range v.Paths {
			out = append(out, openAPIV3Index+"/"+gv)
		}
		return out, nil
	}
	return nil, nil
}

// copy GETs the document at p and stores it (replacing the file atomically
// when its content changed). It returns the body.
func (f *docFetcher) copy(ctx context.Context, p string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.host+p, nil)
	if err != nil {
		return nil, err
	}
	accept := "application/json"
	if p == JWKSPath {
		accept = "application/jwk-set+json, application/json" // kube-apiserver offers only the former
	}
	req.Header.Set("Accept", accept)
	resp, err := f.client.Do(req)
	if err != nil {
		f.report(err)
		return nil, fmt.Errorf("GET %s: %w", p, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		f.report(err)
		return nil, fmt.Errorf("GET %s: %w", p, err)
	}
	f.report(nil)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", p, resp.Status, strings.TrimSpace(string(body[:min(len(body), 200)])))
	}
	if len(body) > maxDocumentBytes {
		return nil, fmt.Errorf("GET %s: larger than %d bytes", p, maxDocumentBytes)
	}
	return body, writeIfChanged(DocumentFile(f.dir, p), body)
}

func writeIfChanged(file string, data []byte) error {
	if old, err := os.ReadFile(file); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}
