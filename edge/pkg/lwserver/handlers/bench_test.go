package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// discardWriter is a ResponseWriter that only counts bytes (the network
// write is not what these benchmarks measure).
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) WriteHeader(c int)   { d.code = c }
func (d *discardWriter) Write(b []byte) (int, error) {
	if d.code == 0 {
		d.code = 200
	}
	d.n += len(b)
	return len(b), nil
}

// benchPod is a pod of about 4 KB of JSON, shaped like a real one.
func benchPod(i int) map[string]interface{} {
	ns := fmt.Sprintf("ns-%d", i%10)
	name := fmt.Sprintf("pod-%05d", i)
	p := pod(ns, name, map[string]interface{}{
		"app": fmt.Sprintf("app-%d", i%50), "bucket": fmt.Sprintf("b%d", i%100), "pod-template-hash": "7c5d8f9b4d",
	}, fmt.Sprintf("node-%d", i%20), "Running")
	md := p["metadata"].(map[string]interface{})
	md["annotations"] = map[string]interface{}{"kubectl.kubernetes.io/last-applied-configuration": strings.Repeat("x", 1550)}
	md["ownerReferences"] = []interface{}{map[string]interface{}{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs-" + name, "uid": "u-" + name, "controller": true}}
	spec := p["spec"].(map[string]interface{})
	spec["containers"] = []interface{}{map[string]interface{}{
		"name": "app", "image": "registry.example.com/team/app:v1.2.3",
		"args":      []interface{}{"--port=8080", "--log-level=info", "--config=/etc/app/config.yaml"},
		"ports":     []interface{}{map[string]interface{}{"containerPort": int64(8080), "protocol": "TCP", "name": "http"}},
		"env":       []interface{}{map[string]interface{}{"name": "POD_NAME", "valueFrom": map[string]interface{}{"fieldRef": map[string]interface{}{"fieldPath": "metadata.name"}}}},
		"resources": map[string]interface{}{"requests": map[string]interface{}{"cpu": "100m", "memory": "128Mi"}, "limits": map[string]interface{}{"cpu": "500m", "memory": "512Mi"}},
		"volumeMounts": []interface{}{map[string]interface{}{"name": "config", "mountPath": "/etc/app"},
			map[string]interface{}{"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}},
		"livenessProbe":  map[string]interface{}{"httpGet": map[string]interface{}{"path": "/healthz", "port": int64(8080)}, "periodSeconds": int64(10)},
		"readinessProbe": map[string]interface{}{"httpGet": map[string]interface{}{"path": "/readyz", "port": int64(8080)}, "periodSeconds": int64(5)},
	}}
	spec["volumes"] = []interface{}{map[string]interface{}{"name": "config", "configMap": map[string]interface{}{"name": "app-config"}},
		map[string]interface{}{"name": "kube-api-access", "projected": map[string]interface{}{"sources": []interface{}{
			map[string]interface{}{"serviceAccountToken": map[string]interface{}{"path": "token", "expirationSeconds": int64(3607)}}}}}}
	spec["restartPolicy"] = "Always"
	spec["serviceAccountName"] = "default"
	spec["schedulerName"] = "default-scheduler"
	spec["tolerations"] = []interface{}{map[string]interface{}{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": int64(300)}}
	st := p["status"].(map[string]interface{})
	st["hostIP"] = "192.168.1.10"
	st["podIPs"] = []interface{}{map[string]interface{}{"ip": "10.0.0.1"}}
	st["startTime"] = "2024-01-01T00:00:00Z"
	st["qosClass"] = "Burstable"
	st["conditions"] = []interface{}{
		map[string]interface{}{"type": "Initialized", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"},
		map[string]interface{}{"type": "Ready", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"},
		map[string]interface{}{"type": "ContainersReady", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"},
		map[string]interface{}{"type": "PodScheduled", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"},
	}
	st["containerStatuses"] = []interface{}{map[string]interface{}{
		"name": "app", "ready": true, "restartCount": int64(0), "started": true,
		"image": "registry.example.com/team/app:v1.2.3", "imageID": "registry.example.com/team/app@sha256:" + strings.Repeat("a", 64),
		"containerID": "containerd://" + strings.Repeat("b", 64),
		"state":       map[string]interface{}{"running": map[string]interface{}{"startedAt": "2024-01-01T00:00:00Z"}},
	}}
	return p
}

func seedPods(b *testing.B, e *testEnv, n int) {
	const batch = 1000
	for lo := 0; lo < n; lo += batch {
		err := e.store.Update(context.Background(), func(tx dao.Tx) error {
			for i := lo; i < lo+batch && i < n; i++ {
				if err := e.putTx(tx, benchPod(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkList: list all pods (JSON), a 1 % label selector, one namespace
// (10 %), get one pod, and the Table of all pods, at 1k and 10k pods of ~4 KB.
// The handler runs in-process on a real store; the response is discarded.
func BenchmarkList(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			e := newTestEnv(b, dao.Options{})
			seedPods(b, e, n)
			for _, bc := range []struct{ name, path, accept string }{
				{"all", "/api/v1/pods", ""},
				{"label-1pct", "/api/v1/pods?labelSelector=bucket%3Db7", ""},
				{"namespace-10pct", "/api/v1/namespaces/ns-3/pods", ""},
				{"get", "/api/v1/namespaces/ns-3/pods/pod-00003", ""},
				{"table", "/api/v1/pods", "application/json;as=Table;v=v1;g=meta.k8s.io"},
				{"protobuf", "/api/v1/pods", "application/vnd.kubernetes.protobuf"},
			} {
				b.Run(bc.name, func(b *testing.B) {
					r := httptest.NewRequest(http.MethodGet, bc.path, nil)
					if bc.accept != "" {
						r.Header.Set("Accept", bc.accept)
					}
					var bytes int
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						w := &discardWriter{h: http.Header{}}
						e.h.ServeHTTP(w, r)
						if w.code != 200 {
							b.Fatalf("code %d", w.code)
						}
						bytes = w.n
					}
					b.ReportMetric(float64(bytes), "resp-bytes")
				})
			}
		})
	}
}
