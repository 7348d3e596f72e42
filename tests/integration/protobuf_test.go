package integration

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/edgecore/edgecore/edge/pkg/kube"
)

const protobufType = "application/vnd.kubernetes.protobuf"

// protobufFixtures injects the transcoder's fixtures (objects of ~30
// built-in kinds with every common field) and returns their resources and
// paths.
func protobufFixtures(t *testing.T, e *Edgecore) map[string]kube.Resource {
	paths, err := filepath.Glob(filepath.Join("..", "..", "edge", "pkg", "lwserver", "protoenc", "testdata", "*.json"))
	if err != nil || len(paths) < 20 {
		t.Fatalf("fixtures: %d, %v", len(paths), err)
	}
	m := kube.NewMapper()
	out := map[string]kube.Resource{}
	var msgs []any
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var obj struct {
			APIVersion string            `json:"apiVersion"`
			Kind       string            `json:"kind"`
			Metadata   metav1.ObjectMeta `json:"metadata"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			t.Fatal(err)
		}
		res, ok := m.ByGVK(schema.FromAPIVersionAndKind(obj.APIVersion, obj.Kind))
		if !ok {
			t.Fatalf("%s: kind %s/%s not served", p, obj.APIVersion, obj.Kind)
		}
		if r, ok := m.ByRestype(strings.ToLower(obj.Kind)); !ok || r.GVR != res.GVR {
			continue // events.k8s.io Events: their restype is core Event's
		}
		ns, path := "null", "/"+res.GVR.Resource+"/"+obj.Metadata.Name
		if res.Namespaced {
			ns, path = obj.Metadata.Namespace, "/namespaces/"+obj.Metadata.Namespace+path
		}
		prefix := "/apis/" + res.GVR.GroupVersion().String()
		if res.GVR.Group == "" {
			prefix = "/api/v1"
		}
		out[prefix+path] = res
		msgs = append(msgs, Msg("insert", ns+"/"+strings.ToLower(obj.Kind)+"/"+obj.Metadata.Name, json.RawMessage(b)))
	}
	MustOK(t, e.Inject(msgs...))
	return out
}

// fetchDecoded GETs url in mediaType through client-go's HTTP client and
// decodes the body with client-go's scheme (JSON or protobuf by its type).
func fetchDecoded(t *testing.T, hc *rest.Config, url, mediaType string) runtime.Object {
	t.Helper()
	c, err := rest.HTTPClientFor(hc)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := newGet(url, mediaType)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != mediaType {
		t.Fatalf("%s as %s: %d %s: %.300s", url, mediaType, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
	if err != nil {
		t.Fatalf("%s as %s: %v", url, mediaType, err)
	}
	if meta.IsListType(obj) {
		_ = meta.EachListItem(obj, func(o runtime.Object) error { // JSON items carry TypeMeta, protobuf's do not
			o.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
			return nil
		})
	}
	return obj
}

// TestProtobufBuiltinKinds: through the binary, every fixture kind's get and
// list in protobuf decode to what they decode to in JSON.
func TestProtobufBuiltinKinds(t *testing.T) {
	e := startAPI(t, Options{})
	cfg := restConfig(e)
	for path, res := range protobufFixtures(t, e) {
		list := path[:strings.LastIndex(path, "/")]
		for _, u := range []string{path, list, list + "?limit=1"} {
			want := fetchDecoded(t, cfg, cfg.Host+u, "application/json")
			got := fetchDecoded(t, cfg, cfg.Host+u, protobufType)
			if !equality.Semantic.DeepEqual(want, got) {
				t.Fatalf("%s (%s): protobuf differs from JSON:\n%s", u, res.Kind, diff.Diff(want, got))
			}
		}
	}
}

// TestProtobufClientGo: client-go's typed clientset and an informer over
// protobuf (as kube-proxy and controllers run) list, get and watch through
// the binary.
func TestProtobufClientGo(t *testing.T) {
	e := startDemo(t, "")
	cfg := restConfig(e)
	cfg.ContentType = protobufType
	cfg.AcceptContentTypes = protobufType
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil || len(pods.Items) != 10 {
		t.Fatalf("list: %v", err)
	}
	p, err := cs.CoreV1().Pods("default").Get(ctx, "redis-0", metav1.GetOptions{})
	if err != nil || p.Spec.NodeName != "edge-1" || p.Status.PodIP != "10.244.1.12" {
		t.Fatalf("get: %v %+v", err, p)
	}
	f := informers.NewSharedInformerFactory(cs, 0)
	inf := f.Core().V1().Pods().Informer()
	updates := make(chan *corev1.Pod, 10)
	deletes := make(chan string, 10)
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, n interface{}) { updates <- n.(*corev1.Pod) },
		DeleteFunc: func(o interface{}) {
			if p, ok := o.(*corev1.Pod); ok {
				deletes <- p.Name
			}
		},
	})
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) || len(inf.GetStore().List()) != 10 {
		t.Fatalf("informer synced %d pods", len(inf.GetStore().List()))
	}
	p.Status.Phase = corev1.PodFailed
	p.Labels["changed"] = "yes"
	p.ResourceVersion = ""
	MustOK(t, e.Inject(Msg("update", "default/pod/redis-0", p)))
	select {
	case u := <-updates:
		if u.Name != "redis-0" || u.Status.Phase != corev1.PodFailed || u.Labels["changed"] != "yes" || u.Spec.NodeName != "edge-1" {
			t.Fatalf("update: %+v", u)
		}
	case <-ctx.Done():
		t.Fatal("no update over the protobuf watch")
	}
	MustOK(t, e.Inject(Msg("delete", "default/pod/redis-0", nil)))
	select {
	case name := <-deletes:
		if name != "redis-0" {
			t.Fatalf("deleted %s", name)
		}
	case <-ctx.Done():
		t.Fatal("no delete over the protobuf watch")
	}
}

func newGet(url, accept string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err == nil {
		req.Header.Set("Accept", accept)
	}
	return req, err
}
