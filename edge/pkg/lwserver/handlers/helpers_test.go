package handlers

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/printers"
	// Tests seed a real store through dao's writer; the handlers themselves
	// read only through metaclient.
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

type testEnv struct {
	store  *dao.Store
	mapper *kube.Mapper
	h      *Handler
}

func newTestEnv(tb testing.TB, opts dao.Options) *testEnv {
	tb.Helper()
	st, err := dao.Open(filepath.Join(tb.TempDir(), "edgecore.db"), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	m := kube.NewMapper()
	h, err := New(Config{Mapper: m, Store: metaclient.New(st), RVWait: 200 * time.Millisecond, Tables: PrinterTables{P: printers.New()}})
	if err != nil {
		tb.Fatal(err)
	}
	return &testEnv{store: st, mapper: m, h: h}
}

// put stores objects (unstructured content with apiVersion/kind).
func (e *testEnv) put(tb testing.TB, objs ...map[string]interface{}) {
	tb.Helper()
	err := e.store.Update(context.Background(), func(tx dao.Tx) error {
		for _, obj := range objs {
			if err := e.putTx(tx, obj); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func (e *testEnv) putTx(tx dao.Tx, obj map[string]interface{}) error {
	u := unstructured.Unstructured{Object: obj}
	res, ok := e.mapper.ByGVK(u.GroupVersionKind())
	if !ok {
		return fmt.Errorf("unknown kind %v", u.GroupVersionKind())
	}
	if res.GVR == kube.CRDResource {
		if err := e.mapper.AddCRD(obj); err != nil {
			return err
		}
	}
	ns := u.GetNamespace()
	if !res.Namespaced {
		ns = ""
	}
	_, err := tx.Put(dao.PutRequest{
		Key:    dao.Key{GVR: res.GVR, Namespace: ns, Name: u.GetName()},
		Kind:   res.Kind,
		Object: obj,
		Labels: u.GetLabels(),
		Fields: kube.Fields(res, obj),
	})
	return err
}

func (e *testEnv) delete(tb testing.TB, gvrRes kube.Resource, ns, name string) {
	tb.Helper()
	err := e.store.Update(context.Background(), func(tx dao.Tx) error {
		_, err := tx.Delete(dao.Key{GVR: gvrRes.GVR, Namespace: ns, Name: name}, "")
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func pod(ns, name string, labels map[string]interface{}, node, phase string) map[string]interface{} {
	md := map[string]interface{}{"name": name, "namespace": ns, "uid": "uid-" + ns + "-" + name,
		"creationTimestamp": "2024-01-01T00:00:00Z"}
	if labels != nil {
		md["labels"] = labels
	}
	return map[string]interface{}{
		"apiVersion": "v1", "kind": "Pod", "metadata": md,
		"spec": map[string]interface{}{"nodeName": node, "containers": []interface{}{
			map[string]interface{}{"name": "c", "image": "nginx"}}},
		"status": map[string]interface{}{"phase": phase, "podIP": "10.0.0.1"},
	}
}

func node(name string) map[string]interface{} {
	return map[string]interface{}{"apiVersion": "v1", "kind": "Node",
		"metadata": map[string]interface{}{"name": name, "creationTimestamp": "2024-01-01T00:00:00Z"}}
}

func crd() map[string]interface{} {
	return map[string]interface{}{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]interface{}{"name": "devices.devices.example.com"},
		"spec": map[string]interface{}{
			"group": "devices.example.com", "scope": "Namespaced",
			"names":    map[string]interface{}{"kind": "Device", "plural": "devices", "singular": "device", "shortNames": []interface{}{"dev"}},
			"versions": []interface{}{map[string]interface{}{"name": "v1alpha1", "served": true, "storage": true}},
		},
	}
}

func device(ns, name string) map[string]interface{} {
	return map[string]interface{}{"apiVersion": "devices.example.com/v1alpha1", "kind": "Device",
		"metadata": map[string]interface{}{"name": name, "namespace": ns, "creationTimestamp": "2024-01-01T00:00:00Z"},
		"spec":     map[string]interface{}{"model": "x"}}
}

// do runs one request through the handler (with the RequestInfo it computes).
func (e *testEnv) do(tb testing.TB, method, target string, hdr ...string) *httptest.ResponseRecorder {
	tb.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func mustContain(tb testing.TB, body, want string) {
	tb.Helper()
	if !strings.Contains(body, want) {
		tb.Fatalf("body does not contain %q:\n%s", want, body)
	}
}

var _ = http.MethodGet

func urlB64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
