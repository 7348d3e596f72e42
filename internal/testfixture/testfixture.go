// Package testfixture builds the Kubernetes objects that tests and
// benchmarks feed edgecore, so that every package measures with the same
// pod: about 4 KB of JSON shaped like one a kubelet reports (the size
// docs/benchmarks.md measures with). Only tests import it.
package testfixture

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Pod describes a pod to build; zero fields take the defaults noted.
type Pod struct {
	Namespace, Name string
	// Labels: nil = app=bench, tier=backend, pod-template-hash=5d4f8b7c9.
	Labels map[string]string
	// Node is spec.nodeName ("" = edge-1); Phase status.phase ("" = Running).
	Node, Phase string
	// ResourceVersion is metadata.resourceVersion ("" = none).
	ResourceVersion string
}

var defaultLabels = map[string]string{"app": "bench", "tier": "backend", "pod-template-hash": "5d4f8b7c9"}

// envVars is the container's environment: most of the pod's size.
var envVars = func() string {
	env := make([]string, 24)
	for i := range env {
		env[i] = fmt.Sprintf(`{"name":"ENV_VAR_NUMBER_%02d","value":"some-configuration-value-%02d-abcdefghij"}`, i, i)
	}
	return strings.Join(env, ",")
}()

// JSON returns the pod's JSON (about 4 KB).
func (p Pod) JSON() []byte {
	labels := p.Labels
	if labels == nil {
		labels = defaultLabels
	}
	lb, _ := json.Marshal(labels) // a map of strings cannot fail
	node, phase := or(p.Node, "edge-1"), or(p.Phase, "Running")
	rv := ""
	if p.ResourceVersion != "" {
		rv = fmt.Sprintf(`"resourceVersion":%q,`, p.ResourceVersion)
	}
	return []byte(fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":%q,"namespace":%q,%s"uid":"0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0","labels":%s,"annotations":{"kubectl.kubernetes.io/restartedAt":"2025-11-20T08:00:00Z"},"creationTimestamp":"2025-11-20T08:00:00Z","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"bench-5d4f8b7c9","uid":"9f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0","controller":true,"blockOwnerDeletion":true}]},`+
		`"spec":{"nodeName":%q,"restartPolicy":"Always","schedulerName":"default-scheduler","serviceAccountName":"default","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",`+
		`"containers":[{"name":"app","image":"ghcr.io/example/bench-app:1.2.3","imagePullPolicy":"IfNotPresent","ports":[{"containerPort":8080,"name":"http","protocol":"TCP"}],"env":[%s],`+
		`"resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"memory":"256Mi"}},"readinessProbe":{"httpGet":{"path":"/healthz","port":8080,"scheme":"HTTP"},"periodSeconds":10,"timeoutSeconds":1,"successThreshold":1,"failureThreshold":3},`+
		`"volumeMounts":[{"name":"kube-api-access","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true}],"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}],`+
		`"volumes":[{"name":"kube-api-access","projected":{"defaultMode":420,"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}}]}}],`+
		`"tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]},`+
		`"status":{"phase":%q,"hostIP":"192.168.10.21","podIP":"10.244.1.17","podIPs":[{"ip":"10.244.1.17"}],"qosClass":"Burstable","startTime":"2025-11-20T08:00:01Z",`+
		`"conditions":[{"type":"Initialized","status":"True","lastTransitionTime":"2025-11-20T08:00:01Z"},{"type":"Ready","status":"True","lastTransitionTime":"2025-11-20T08:00:09Z"},{"type":"ContainersReady","status":"True","lastTransitionTime":"2025-11-20T08:00:09Z"},{"type":"PodScheduled","status":"True","lastTransitionTime":"2025-11-20T08:00:00Z"}],`+
		`"containerStatuses":[{"name":"app","ready":true,"started":true,"restartCount":0,"image":"ghcr.io/example/bench-app:1.2.3","imageID":"ghcr.io/example/bench-app@sha256:4c0a8f1d2e7b6a5c3d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c","containerID":"containerd://0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","state":{"running":{"startedAt":"2025-11-20T08:00:08Z"}}}]}}`,
		p.Name, p.Namespace, rv, lb, node, envVars, phase))
}

// Object returns the pod as unstructured content (numbers as json.Number).
func (p Pod) Object() map[string]interface{} {
	return decode(p.JSON())
}

// BenchPod is pod i of the benchmark population: namespace ns-<i%10>
// (10 % each), name pod-<i, 6 digits>, labels app=app-<i%100> and
// bucket=b<i%100> (1 % each) and tier front/back, node n<i%5> (20 % each).
func BenchPod(i int) Pod {
	return Pod{
		Namespace: fmt.Sprintf("ns-%d", i%10),
		Name:      fmt.Sprintf("pod-%06d", i),
		Labels: map[string]string{"app": fmt.Sprintf("app-%d", i%100), "bucket": fmt.Sprintf("b%d", i%100),
			"tier": []string{"front", "back"}[i%2], "pod-template-hash": "5d8f7c9b6d"},
		Node:            fmt.Sprintf("n%d", i%5),
		ResourceVersion: fmt.Sprint(i + 1),
	}
}

// ConfigMap returns a ConfigMap as unstructured content.
func ConfigMap(ns, name string, data map[string]string) map[string]interface{} {
	d := make(map[string]interface{}, len(data))
	for k, v := range data {
		d[k] = v
	}
	return map[string]interface{}{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]interface{}{"name": name, "namespace": ns}, "data": d}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func decode(b []byte) map[string]interface{} {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]interface{}
	if err := d.Decode(&m); err != nil {
		panic("testfixture: " + err.Error()) // the templates above are valid JSON
	}
	return m
}
