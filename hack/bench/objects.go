package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The seeded data set: N pods (~4 KB of JSON each) and N configmaps (~0.5 KB)
// spread over numNamespaces namespaces. One pod in a hundred carries
// tier=canary, so selectorQuery matches 1 %.
const (
	numNamespaces = 10
	seqAnnotation = "bench.edgecore.io/seq"
	selectorQuery = "tier%3Dcanary" // tier=canary, URL-encoded
	nodeName      = "edge-node-1"
)

var createdAt = metav1.NewTime(time.Date(2025, 11, 25, 15, 0, 0, 0, time.UTC))

func podName(i int) string       { return fmt.Sprintf("bench-pod-%06d", i) }
func podNamespace(i int) string  { return fmt.Sprintf("bench-%d", i%numNamespaces) }
func cmName(i int) string        { return fmt.Sprintf("bench-cm-%06d", i) }
func fakeUID(kind, i int) string { return fmt.Sprintf("%08x-b3c4-4d5e-8f60-%012x", kind, i) }

func tierOf(i int) string {
	if i%100 == 0 {
		return "canary"
	}
	return [...]string{"frontend", "backend", "cache"}[i%3]
}

// makePod builds pod i with the given cloud resourceVersion; seq >= 0 stamps
// the bench annotation that the update-latency phase looks for in watch events.
// cloudRV <= 0 leaves out resourceVersion and uid: the pod as a client sends
// it to kube-apiserver (which sets both, and refuses a create that has them).
func makePod(i int, cloudRV int64, seq int64) []byte {
	b, err := json.Marshal(podObject(i, cloudRV, seq))
	if err != nil {
		panic(err) // static types; cannot happen
	}
	return b
}

// podObject is pod i. Long because it is one object literal, written out as
// a controller would send it.
func podObject(i int, cloudRV int64, seq int64) *corev1.Pod {
	app := fmt.Sprintf("app-%02d", i%50)
	hash := fmt.Sprintf("%x", 0x5d4f8c7b9+i%50)
	ann := map[string]string{
		"kubernetes.io/config.source": "api",
	}
	if seq >= 0 {
		ann[seqAnnotation] = strconv.FormatInt(seq, 10)
	}
	env := func(prefix string, k int) []corev1.EnvVar {
		out := []corev1.EnvVar{
			{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
			{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}},
		}
		for j := 0; j < k; j++ {
			out = append(out, corev1.EnvVar{Name: fmt.Sprintf("%s_SETTING_%d", prefix, j), Value: fmt.Sprintf("value-%d-%d-some-configuration", i, j)})
		}
		return out
	}
	probe := func(path string, port int) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(int32(port)), Scheme: corev1.URISchemeHTTP}},
			InitialDelaySeconds: 5, TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3,
		}
	}
	res := func(cpu, mem string) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("512Mi")},
		}
	}
	startedAt := metav1.NewTime(createdAt.Add(12 * time.Second))
	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:              podName(i),
			Namespace:         podNamespace(i),
			UID:               types.UID(serverSet(cloudRV, fakeUID(1, i))),
			ResourceVersion:   serverSet(cloudRV, strconv.FormatInt(cloudRV, 10)),
			CreationTimestamp: createdAt,
			GenerateName:      app + "-" + hash + "-",
			Labels: map[string]string{
				"app": app, "tier": tierOf(i), "pod-template-hash": hash,
				"version": "v1.4.2", "app.kubernetes.io/part-of": "edge-bench",
			},
			Annotations: ann,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: app + "-" + hash,
				UID: types.UID(fakeUID(2, i%50)), Controller: ptr(true), BlockOwnerDeletion: ptr(true),
			}},
		},
		Spec: corev1.PodSpec{
			Volumes: []corev1.Volume{
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: cmName(i)}, DefaultMode: ptr(int32(420))}}},
				{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "kube-api-access", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
					Sources: []corev1.VolumeProjection{
						{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: ptr(int64(3607)), Path: "token"}},
					},
					DefaultMode: ptr(int32(420)),
				}}},
			},
			Containers: []corev1.Container{
				{
					Name: "app", Image: "registry.example.com/edge/" + app + ":v1.4.2",
					Command: []string{"/app/server"}, Args: []string{"--listen=:8080", "--metrics=:9090", "--config=/etc/app/config.yaml"},
					Ports:                  []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
					Env:                    env("APP", 0),
					Resources:              res("250m", "128Mi"),
					VolumeMounts:           []corev1.VolumeMount{{Name: "config", MountPath: "/etc/app", ReadOnly: true}, {Name: "cache", MountPath: "/var/cache/app"}, {Name: "kube-api-access", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true}},
					LivenessProbe:          probe("/healthz", 8080),
					ReadinessProbe:         probe("/readyz", 8080),
					TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile,
					ImagePullPolicy: corev1.PullIfNotPresent,
				},
				{
					Name: "sidecar", Image: "registry.example.com/edge/log-shipper:2.1.0",
					Args:                   []string{"--input=/var/cache/app/*.log", "--output=forward://collector:24224"},
					Resources:              res("50m", "32Mi"),
					VolumeMounts:           []corev1.VolumeMount{{Name: "cache", MountPath: "/var/cache/app", ReadOnly: true}},
					TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile,
					ImagePullPolicy: corev1.PullIfNotPresent,
				},
			},
			RestartPolicy: corev1.RestartPolicyAlways, TerminationGracePeriodSeconds: ptr(int64(30)),
			DNSPolicy: corev1.DNSClusterFirst, ServiceAccountName: "default", NodeName: nodeName,
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr(true), RunAsUser: ptr(int64(1000)), FSGroup: ptr(int64(2000))},
			SchedulerName:   "default-scheduler",
			Tolerations: []corev1.Toleration{
				{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
			},
			Priority: ptr(int32(0)), EnableServiceLinks: ptr(true), PreemptionPolicy: ptr(corev1.PreemptLowerPriority),
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: createdAt},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: startedAt},
				{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: startedAt},
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: createdAt},
			},
			HostIP: "192.168.10.11", HostIPs: []corev1.HostIP{{IP: "192.168.10.11"}},
			PodIP: fmt.Sprintf("10.42.%d.%d", i/250%256, i%250+2), PodIPs: []corev1.PodIP{{IP: fmt.Sprintf("10.42.%d.%d", i/250%256, i%250+2)}},
			StartTime: &createdAt, QOSClass: corev1.PodQOSBurstable,
			ContainerStatuses: []corev1.ContainerStatus{
				{Name: "app", Ready: true, Started: ptr(true), Image: "registry.example.com/edge/" + app + ":v1.4.2",
					ImageID:     "registry.example.com/edge/" + app + "@sha256:" + fmt.Sprintf("%064x", i%50+1),
					ContainerID: fmt.Sprintf("containerd://%064x", i*2+1),
					State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: startedAt}}},
				{Name: "sidecar", Ready: true, Started: ptr(true), Image: "registry.example.com/edge/log-shipper:2.1.0",
					ImageID:     "registry.example.com/edge/log-shipper@sha256:" + fmt.Sprintf("%064x", 7),
					ContainerID: fmt.Sprintf("containerd://%064x", i*2+2),
					State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: startedAt}}},
			},
		},
	}
	return pod
}

// serverSet is v for edgecore's store (cloudRV > 0) and "" for objects sent
// to kube-apiserver, which sets uid and resourceVersion itself.
func serverSet(cloudRV int64, v string) string {
	if cloudRV <= 0 {
		return ""
	}
	return v
}

func makeConfigMap(i int, cloudRV int64) []byte {
	cm := &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name: cmName(i), Namespace: podNamespace(i), UID: types.UID(serverSet(cloudRV, fakeUID(3, i))),
			ResourceVersion: serverSet(cloudRV, strconv.FormatInt(cloudRV, 10)), CreationTimestamp: createdAt,
			Labels: map[string]string{"app": fmt.Sprintf("app-%02d", i%50), "tier": tierOf(i)},
		},
		Data: map[string]string{
			"config.yaml":   fmt.Sprintf("listen: :8080\nmetrics: :9090\nlogLevel: info\nshard: %d\nupstream: http://collector.%s.svc:24224\n", i, podNamespace(i)),
			"feature-flags": "canary=false\nfast-path=true\n",
		},
	}
	b, err := json.Marshal(cm)
	if err != nil {
		panic(err)
	}
	return b
}

// appendMessage appends one NDJSON beehive message (docs/architecture.md §3.1).
func appendMessage(buf []byte, msgID, op, resource string, cloudRV int64, content []byte) []byte {
	buf = append(buf, `{"header":{"msg_id":"`...)
	buf = append(buf, msgID...)
	buf = append(buf, `","parent_msg_id":"","timestamp":`...)
	buf = strconv.AppendInt(buf, time.Now().UnixMilli(), 10)
	buf = append(buf, `,"resourceversion":"`...)
	buf = strconv.AppendInt(buf, cloudRV, 10)
	buf = append(buf, `","sync":false},"route":{"source":"edgecontroller","group":"resource","operation":"`...)
	buf = append(buf, op...)
	buf = append(buf, `","resource":"`...)
	buf = append(buf, resource...)
	buf = append(buf, `"},"content":`...)
	buf = append(buf, content...)
	buf = append(buf, "}\n"...)
	return buf
}

func ptr[T any](v T) *T { return &v }
