package lwserver

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestMaxInFlight: beyond the limit, non-long-running requests get 429
// with Retry-After and kube-apiserver's Status; watches are not counted.
func TestMaxInFlight(t *testing.T) {
	s, _ := newTestServer(t, DefaultConfig())
	h := s.handler
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	blocking := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.WriteHeader(200)
	})
	chain := Chain(blocking, WithRequestInfo(h.InfoFactory(), h.WriteError), WithMaxInFlight(1, h.WriteError))
	srv := httptest.NewServer(chain)
	defer srv.Close()
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/api/v1/pods")
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-entered
	resp, err := http.Get(srv.URL + "/api/v1/namespaces/x/pods/p")
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	st := decodeStatus(t, body)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" || st.Reason != "TooManyRequests" ||
		st.Message != "Too many requests, please try again later." {
		t.Fatalf("%d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// A watch is long-running: not limited.
	go func() {
		if resp, err := http.Get(srv.URL + "/api/v1/pods?watch=true"); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("watch was limited")
	}
	close(release)
	if code := <-done; code != 200 {
		t.Fatalf("first request: %d", code)
	}
}

// TestRequestTimeout: a non-long-running request's context ends at the
// timeout; a watch's does not.
func TestRequestTimeout(t *testing.T) {
	s, _ := newTestServer(t, DefaultConfig())
	got := make(chan bool, 2)
	probe := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, has := r.Context().Deadline()
		got <- has
	})
	chain := Chain(probe, WithRequestInfo(s.handler.InfoFactory(), s.handler.WriteError), WithRequestTimeout(time.Minute))
	for path, want := range map[string]bool{"/api/v1/pods": true, "/api/v1/pods?watch=1": false} {
		chain.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil).WithContext(context.Background()))
		if has := <-got; has != want {
			t.Errorf("%s: deadline %v, want %v", path, has, want)
		}
	}
}

func readBody(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBodyReadTimeout: a client that sends a header and then stalls its
// body is cut off after the body read timeout (the handler's read fails).
func TestBodyReadTimeout(t *testing.T) {
	readErr := make(chan error, 1)
	h := Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
	}), WithBodyReadTimeout(200*time.Millisecond))
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "POST /api/v1/namespaces/x/configmaps HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-readErr:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("body read ended with %v, want a timeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a stalled body was not cut off")
	}
}
