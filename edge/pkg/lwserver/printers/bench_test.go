package printers

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/edgecore/edgecore/edge/pkg/kube"
)

var benchNow = time.Date(2025, 11, 25, 12, 0, 0, 0, time.UTC)

// benchPod returns a realistic running pod of about 4 KB of JSON.
func benchPod(i int) []byte {
	created := metav1.NewTime(benchNow.Add(-time.Duration(i%5000) * time.Minute))
	trueV := true
	pod := corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("web-%06d-7d9c8b5f4-x2k9p", i), Namespace: fmt.Sprintf("ns-%d", i%10),
			UID: "6f1c3b2a-1d2e-4c5b-9a8f-7e6d5c4b3a21", ResourceVersion: fmt.Sprint(100000 + i),
			CreationTimestamp: created, GenerateName: "web-7d9c8b5f4-",
			Labels:      map[string]string{"app": "web", "pod-template-hash": "7d9c8b5f4", "tier": "frontend", "release": "stable"},
			Annotations: map[string]string{"kubectl.kubernetes.io/restartedAt": "2025-11-20T10:00:00Z", "prometheus.io/scrape": "true"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9c8b5f4",
				UID: "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", Controller: &trueV, BlockOwnerDeletion: &trueV}},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: "Update", APIVersion: "v1", Time: &created,
				FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:generateName":{},"f:labels":{".":{},"f:app":{},"f:pod-template-hash":{},"f:release":{},"f:tier":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:env":{".":{},"k:{\"name\":\"MODE\"}":{".":{},"f:name":{},"f:value":{}}},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:ports":{".":{},"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:protocol":{}}},"f:resources":{".":{},"f:limits":{".":{},"f:memory":{}},"f:requests":{".":{},"f:cpu":{},"f:memory":{}}}}},"f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{}}}`)}},
				{Manager: "kubelet", Operation: "Update", APIVersion: "v1", Time: &created, FieldsType: "FieldsV1", Subresource: "status",
					FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:status":{"f:conditions":{"k:{\"type\":\"ContainersReady\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Ready\"}":{".":{},"f:status":{},"f:type":{}}},"f:containerStatuses":{},"f:hostIP":{},"f:phase":{},"f:podIP":{},"f:podIPs":{".":{},"k:{\"ip\":\"10.244.1.23\"}":{".":{},"f:ip":{}}},"f:startTime":{}}}`)}}},
		},
		Spec: corev1.PodSpec{
			NodeName: "edge-node-1", ServiceAccountName: "default", RestartPolicy: corev1.RestartPolicyAlways, DNSPolicy: corev1.DNSClusterFirst,
			SchedulerName: "default-scheduler",
			Containers: []corev1.Container{{
				Name: "web", Image: "registry.example.com/web/frontend:1.24.3", ImagePullPolicy: corev1.PullIfNotPresent,
				Ports: []corev1.ContainerPort{{ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
				Env:   []corev1.EnvVar{{Name: "MODE", Value: "production"}, {Name: "LOG_LEVEL", Value: "info"}},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}},
				VolumeMounts:             []corev1.VolumeMount{{Name: "kube-api-access-abcde", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true}},
				TerminationMessagePath:   "/dev/termination-log",
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			}, {
				Name: "sidecar", Image: "registry.example.com/mesh/proxy:2.1.0", ImagePullPolicy: corev1.PullIfNotPresent,
				TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			}},
			Volumes: []corev1.Volume{{Name: "kube-api-access-abcde", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
						Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}}}}}}},
			Tolerations: []corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
				{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, HostIP: "192.168.1.10", PodIP: "10.244.1.23", PodIPs: []corev1.PodIP{{IP: "10.244.1.23"}},
			StartTime: &created, QOSClass: corev1.PodQOSBurstable,
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: created},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: created},
				{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: created},
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: created}},
			ContainerStatuses: []corev1.ContainerStatus{
				{Name: "web", Ready: true, RestartCount: int32(i % 3), Image: "registry.example.com/web/frontend:1.24.3",
					ImageID:     "registry.example.com/web/frontend@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
					ContainerID: "containerd://0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Started: &trueV,
					State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: created}}},
				{Name: "sidecar", Ready: true, Image: "registry.example.com/mesh/proxy:2.1.0",
					ImageID:     "registry.example.com/mesh/proxy@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
					ContainerID: "containerd://fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210", Started: &trueV,
					State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: created}}}},
		},
	}
	if i%3 != 0 {
		fin := metav1.NewTime(benchNow.Add(-time.Duration(i%50) * time.Minute))
		pod.Status.ContainerStatuses[0].LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: fin}}
	}
	b, err := json.Marshal(&pod)
	if err != nil {
		panic(err)
	}
	return b
}

func podResource(t testing.TB) kube.Resource {
	r, ok := kube.NewMapper().ByRestype("pod")
	if !ok {
		t.Fatal("no pod resource")
	}
	return r
}

func BenchmarkTable(b *testing.B) {
	res := podResource(b)
	for _, n := range []int{1000, 10000} {
		items := make([]Item, n)
		size := 0
		for i := range items {
			items[i] = Item{Data: benchPod(i), Revision: int64(100000 + i)}
			size += len(items[i].Data)
		}
		b.Logf("%d pods, %d bytes of JSON each on average", n, size/n)
		opts := Options{Now: func() time.Time { return benchNow }}
		b.Run(fmt.Sprintf("pods=%d/cold", n), func(b *testing.B) {
			p := New()
			p.SetCacheEntries(0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := p.Table(res, items, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("pods=%d/warm-none", n), func(b *testing.B) {
			p := New()
			o := Options{IncludeObject: "None", Now: opts.Now}
			if _, err := p.Table(res, items, o); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := p.Table(res, items, o); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("pods=%d/warm", n), func(b *testing.B) {
			p := New()
			if _, err := p.Table(res, items, opts); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := p.Table(res, items, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
