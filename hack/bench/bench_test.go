package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func frames(t *testing.T, r io.Reader) []string {
	t.Helper()
	f := newFramer(r)
	var out []string
	for {
		ev, err := f.next()
		if err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			return out
		}
		out = append(out, string(ev))
	}
}

func TestFramer(t *testing.T) {
	evs := []string{
		`{"type":"ADDED","object":{"metadata":{"name":"a}{\"b"}}}`,
		`{"type":"MODIFIED","object":{"list":[1,{"x":"\\"}]}}`,
		`{"type":"BOOKMARK","object":{}}`,
	}
	for name, stream := range map[string]string{
		"newline":      strings.Join(evs, "\n") + "\n",
		"crlf":         strings.Join(evs, "\r\n") + "\r\n",
		"concatenated": strings.Join(evs, ""),
		"spaces":       strings.Join(evs, " "),
	} {
		for _, r := range []io.Reader{strings.NewReader(stream), iotest.OneByteReader(strings.NewReader(stream)), iotest.HalfReader(strings.NewReader(stream))} {
			got := frames(t, r)
			if strings.Join(got, "|") != strings.Join(evs, "|") {
				t.Errorf("%s: got %q", name, got)
			}
		}
	}
	// A large event grows the buffer.
	big := `{"type":"ADDED","object":{"data":"` + strings.Repeat("x", 200<<10) + `"}}`
	if got := frames(t, strings.NewReader(big+"\n"+big)); len(got) != 2 || got[1] != big {
		t.Errorf("big events: %d frames", len(got))
	}
}

func TestEventTypeAndSeq(t *testing.T) {
	if got := eventType([]byte(`{"type":"MODIFIED","object":{}}`)); got != "MODIFIED" {
		t.Fatal(got)
	}
	if got := eventType([]byte(`{"object":{"type":"x"},"type":"DELETED"}`)); got != "DELETED" {
		t.Fatal(got)
	}
	pod := makePod(7, 42, 1234)
	if !bytes.Contains(pod, []byte(`"bench.edgecore.io/seq":"1234"`)) {
		t.Fatal("seq annotation not found verbatim")
	}
}

func TestMessagesAreValidJSON(t *testing.T) {
	m := appendMessage(nil, "id-1", "insert", "bench-7/pod/"+podName(7), 42, makePod(7, 42, -1))
	var v struct {
		Header  map[string]any  `json:"header"`
		Route   map[string]any  `json:"route"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(m, &v); err != nil {
		t.Fatal(err)
	}
	if v.Route["resource"] != "bench-7/pod/bench-pod-000007" || v.Header["resourceversion"] != "42" || m[len(m)-1] != '\n' {
		t.Fatalf("%s", m[:200])
	}
	if n := len(makePod(1234, 1732550000000000, -1)); n < 3500 || n > 5000 {
		t.Errorf("pod is %d bytes, want ~4 KB", n)
	}
	if n := len(makeConfigMap(1234, 1732550000000000)); n < 350 || n > 700 {
		t.Errorf("configmap is %d bytes, want ~0.5 KB", n)
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i))
	}
	if percentile(ds, 0.5) != 50 || percentile(ds, 0.99) != 99 || percentile(ds[:1], 0.99) != 100 || percentile(nil, 0.5) != 0 {
		t.Fatal(percentile(ds, 0.5), percentile(ds, 0.99))
	}
}
