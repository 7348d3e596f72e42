package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/watch"
	restclientwatch "k8s.io/client-go/rest/watch"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// decodedEvent is one watch event as client-go decodes it.
type decodedEvent struct {
	typ watch.EventType
	obj runtime.Object
}

// openDecodedWatch opens a watch in mediaType and decodes its events with
// client-go's stream decoder.
func openDecodedWatch(t *testing.T, e *watchEnv, path, mediaType string) <-chan decodedEvent {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	req.Header.Set("Accept", mediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), mediaType) {
		t.Fatalf("%s: %d %s", mediaType, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	info, _ := runtime.SerializerInfoForMediaType(e.h.Codecs().SupportedMediaTypes(), mediaType)
	fr := info.StreamSerializer.Framer.NewFrameReader(resp.Body)
	dec := restclientwatch.NewDecoder(streaming.NewDecoder(fr, info.StreamSerializer.Serializer), e.h.Codecs().UniversalDeserializer())
	ch := make(chan decodedEvent, 100)
	go func() {
		defer close(ch)
		for {
			typ, obj, err := dec.Decode()
			if err != nil {
				return
			}
			ch <- decodedEvent{typ, obj}
		}
	}()
	return ch
}

// TestWatchProtobufMatchesJSON: the initial events (shared pages) and live
// ADDED / MODIFIED / DELETED events of a protobuf watch decode to what the
// same JSON watch's decode to.
func TestWatchProtobufMatchesJSON(t *testing.T) {
	e := newWatchEnv(t, dao.Options{}, watchhub.Options{}, WatchOptions{})
	for i := 0; i < 30; i++ {
		e.put(t, benchPod(i))
	}
	const path = "/api/v1/pods?watch=true&resourceVersion=0"
	js := openDecodedWatch(t, e, path, MediaTypeJSON)
	pb := openDecodedWatch(t, e, path, MediaTypeProtobuf)
	changed := benchPod(3)
	changed["status"].(map[string]interface{})["phase"] = "Failed"
	e.put(t, benchPod(30), changed)
	e.delete(t, podResource(t, e), "ns-4", "pod-000004")
	for i := 0; i < 33; i++ {
		var j, p decodedEvent
		for _, c := range []struct {
			ch  <-chan decodedEvent
			out *decodedEvent
		}{{js, &j}, {pb, &p}} {
			select {
			case ev, ok := <-c.ch:
				if !ok {
					t.Fatalf("event %d: stream ended", i)
				}
				*c.out = ev
			case <-time.After(5 * time.Second):
				t.Fatalf("event %d: none", i)
			}
		}
		if j.typ != p.typ || !equality.Semantic.DeepEqual(j.obj, p.obj) {
			t.Fatalf("event %d: JSON %s, protobuf %s:\n%s", i, j.typ, p.typ, diff.Diff(j.obj, p.obj))
		}
		if want := map[int]watch.EventType{31: watch.Modified, 32: watch.Deleted}[i]; want != "" && j.typ != want {
			t.Fatalf("event %d: %s, want %s", i, j.typ, want)
		}
	}
}

func podResource(t *testing.T, e *watchEnv) kube.Resource {
	r, ok := e.mapper.ByGVR(schema.GroupVersionResource{Version: "v1", Resource: "pods"})
	if !ok {
		t.Fatal("no pods resource")
	}
	return r
}
