package integration

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// startAPI starts edgecore with lwserver serving and waits for /readyz. A
// binary built without lwserver (-tags nolwserver) fails the test: the API is
// the product.
func startAPI(t *testing.T, opts Options) *Edgecore {
	t.Helper()
	e := StartEdgecore(t, opts)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := e.getWithin(e.URL()+"/readyz", time.Second)
		if err == nil {
			if resp.StatusCode == 200 {
				return e
			}
		}
		if strings.Contains(e.Logs(), "built without lwserver") {
			t.Fatal("this edgecore binary is built without lwserver (-tags nolwserver); the read API tests need it")
		}
		if time.Now().After(deadline) {
			t.Fatalf("lwserver not ready on %s: %v\n%s", e.Addr, err, tail(e.Logs(), 40))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// demoLines returns hack/demo/demo.ndjson, one message per line.
func demoLines(t testing.TB) []any {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "hack", "demo", "demo.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			out = append(out, append([]byte(nil), l...))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// startDemo starts edgecore (with an optional config) and injects the demo.
func startDemo(t *testing.T, config string) *Edgecore {
	t.Helper()
	e := startAPI(t, Options{Config: config})
	MustOK(t, e.Inject(demoLines(t)...))
	return e
}

func restConfig(e *Edgecore) *rest.Config { return e.RestConfig() }

// httpDo sends one raw request as admin (AdminClient) and returns code,
// content type and body.
func httpDo(t *testing.T, method, url string, body io.Reader, hdr ...string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := AdminClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}
