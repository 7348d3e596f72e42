package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// openDB opens edgecore.db of a stopped (or killed) edgecore.
func openDB(t testing.TB, dataDir string) (*dao.Store, *metaclient.Client) {
	t.Helper()
	s, err := dao.Open(filepath.Join(dataDir, "edgecore.db"), dao.Options{CompactInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	return s, metaclient.New(s)
}

// TestIngestDemo injects hack/demo/demo.ndjson with `edgecore inject` (a
// subprocess), then checks the store through a query message and, after a
// clean stop, through metaclient.
func TestIngestDemo(t *testing.T) {
	e := StartEdgecore(t, Options{})
	demo, err := filepath.Abs("../../hack/demo/demo.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Count(mustRead(t, demo), []byte("\n"))

	cmd := exec.Command(EdgecoreBinary(), "inject", "-f", demo, "--socket", e.Socket)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("edgecore inject: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	replies := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(replies) != lines {
		t.Fatalf("%d replies for %d messages", len(replies), lines)
	}
	for _, l := range replies {
		r, err := ParseReply([]byte(l))
		if err != nil || !r.OK() || !strings.HasPrefix(r.ParentID, "demo-") {
			t.Fatalf("reply %s (%v)", l, err)
		}
	}

	// A query message sees the devices (a CRD kind, some sent without TypeMeta).
	rs := e.Inject(Msg("query", "demo/device", nil), Msg("query", "default/pod/redis-0", nil))
	MustOK(t, rs)
	var devs struct {
		Kind  string
		Items []struct{ APIVersion, Kind string }
	}
	if err := json.Unmarshal(rs[0].Content, &devs); err != nil || devs.Kind != "DeviceList" || len(devs.Items) != 4 {
		t.Fatalf("device list %s (%v)", rs[0].Content, err)
	}
	for _, d := range devs.Items {
		if d.APIVersion != "devices.kubeedge.io/v1beta1" || d.Kind != "Device" {
			t.Fatalf("device without TypeMeta: %+v", d)
		}
	}

	// inject exits non-zero when a reply is an error.
	bad := exec.Command(EdgecoreBinary(), "inject", "--socket", e.Socket)
	bad.Stdin = strings.NewReader("not json\n")
	if out, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(out), `"operation":"error"`) {
		t.Fatalf("inject of a bad line: err=%v out=%s", err, out)
	}

	start := time.Now()
	e.Stop()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("stop took %v", d)
	}
	if _, err := os.Stat(e.Socket); !os.IsNotExist(err) {
		t.Fatalf("socket left behind after stop: %v", err)
	}

	s, mc := openDB(t, e.DataDir)
	defer s.Close()
	ctx := context.Background()
	want := map[schema.GroupVersionResource]int{
		{Version: "v1", Resource: "namespaces"}:                                               3,
		{Version: "v1", Resource: "nodes"}:                                                    1,
		{Version: "v1", Resource: "pods"}:                                                     10,
		{Version: "v1", Resource: "configmaps"}:                                               4,
		{Version: "v1", Resource: "secrets"}:                                                  3,
		{Version: "v1", Resource: "services"}:                                                 4,
		{Version: "v1", Resource: "endpoints"}:                                                4,
		{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}: 1,
		{Group: "devices.kubeedge.io", Version: "v1beta1", Resource: "devices"}:               4,
	}
	total := 0
	for gvr, n := range want {
		lr, err := mc.List(ctx, gvr, metaclient.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(lr.Items) != n {
			t.Errorf("%s: %d objects, want %d", gvr.Resource, len(lr.Items), n)
		}
		for _, it := range lr.Items {
			var o struct {
				APIVersion, Kind string
				Metadata         struct{ ResourceVersion string }
			}
			if err := json.Unmarshal(it.Data, &o); err != nil || o.Kind != it.Kind || o.APIVersion == "" || o.Metadata.ResourceVersion == "" {
				t.Errorf("%s %s/%s: stored %s", gvr.Resource, it.Namespace, it.Name, it.Data[:min(len(it.Data), 120)])
			}
		}
		total += n
	}
	if int(s.Revision()) != total || total != lines {
		t.Fatalf("store revision %d, %d objects, %d messages", s.Revision(), total, lines)
	}
	// field labels and labels are stored for selectors
	pod, err := mc.Get(ctx, metaclient.Key{GVR: schema.GroupVersionResource{Version: "v1", Resource: "pods"}, Namespace: "default", Name: "redis-0"})
	if err != nil || pod.Fields["spec.nodeName"] != "edge-1" || pod.Labels["app"] != "redis" || pod.CloudRV == "" {
		t.Fatalf("pod %+v (%v)", pod, err)
	}
}

// TestIngestSocketBehaviour: bad lines get error replies with an empty
// parent_msg_id and the connection stays usable; over-long lines too;
// replies echo the resource; a restart keeps the data and the revision.
func TestIngestSocketBehaviour(t *testing.T) {
	e := StartEdgecore(t, Options{Config: "modules:\n  edgeHub:\n    maxMessageBytes: 4096\n"})
	long := MsgRV("insert", "default/configmap/big", "1", map[string]any{"data": map[string]any{"x": strings.Repeat("a", 8000)}})
	rs := e.Inject(
		"{not json",
		MsgRV("insert", "default/configmap/a", "1", map[string]any{"data": map[string]any{"k": "v"}}),
		long,
		MsgRV("insert", "default/configmap/b", "1", map[string]any{"data": map[string]any{"k": "v"}}),
		Msg("bogus", "default/configmap/a", nil),
	)
	if rs[0].OK() || rs[0].ParentID != "" || !strings.Contains(rs[0].Err(), "invalid message") {
		t.Fatalf("bad line reply %s", rs[0].Raw)
	}
	if !rs[1].OK() || rs[1].Resource != "default/configmap/a" || string(rs[1].Content) != `"OK"` {
		t.Fatalf("reply %s", rs[1].Raw)
	}
	if rs[2].OK() || !strings.Contains(rs[2].Err(), "longer than 4096") {
		t.Fatalf("long line reply %s", rs[2].Raw)
	}
	if !rs[3].OK() {
		t.Fatalf("connection not usable after a long line: %s", rs[3].Raw)
	}
	if rs[4].OK() || !strings.Contains(rs[4].Err(), "unknown operation") {
		t.Fatalf("reply %s", rs[4].Raw)
	}
	e.Restart()
	rs = e.Inject(Msg("query", "default/configmap", nil), MsgRV("update", "default/configmap/a", "2", map[string]any{"data": map[string]any{"k": "w"}}))
	MustOK(t, rs)
	var l struct {
		Metadata struct{ ResourceVersion string }
		Items    []json.RawMessage
	}
	if err := json.Unmarshal(rs[0].Content, &l); err != nil || len(l.Items) != 2 || l.Metadata.ResourceVersion != "2" {
		t.Fatalf("after restart: %s", rs[0].Content)
	}
	e.Stop()
	s, _ := openDB(t, e.DataDir)
	defer s.Close()
	if s.Revision() != 3 {
		t.Fatalf("revision %d after restart and one more write, want 3", s.Revision())
	}
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
