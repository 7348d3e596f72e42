package uplink

import (
	"fmt"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestPodRefs(t *testing.T) {
	cmRef := func(n string) corev1.LocalObjectReference { return corev1.LocalObjectReference{Name: n} }
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"},
		Spec: corev1.PodSpec{
			ServiceAccountName: "runner",
			ImagePullSecrets:   []corev1.LocalObjectReference{{Name: "pull"}},
			Volumes: []corev1.Volume{
				{Name: "a", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: cmRef("vol-cm")}}},
				{Name: "b", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "vol-secret"}}},
				{Name: "c", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}},
				{Name: "d", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}},
				{Name: "e", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: cmRef("kube-root-ca.crt")}},
					{Secret: &corev1.SecretProjection{LocalObjectReference: cmRef("proj-secret")}},
				}}}},
			},
			InitContainers: []corev1.Container{{EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: cmRef("init-env")}}}}},
			Containers: []corev1.Container{{
				EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: cmRef("env-secret")}}},
				Env: []corev1.EnvVar{
					{Name: "A", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: cmRef("key-cm")}}},
					{Name: "B", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: cmRef("key-secret")}}},
					{Name: "C", Value: "plain"},
				},
			}},
		},
	}
	var got []string
	for _, r := range podRefs(pod) {
		got = append(got, r.gvr.Resource+"/"+r.namespace+"/"+r.name)
	}
	sort.Strings(got)
	want := []string{
		"configmaps/ns/init-env", "configmaps/ns/key-cm", "configmaps/ns/kube-root-ca.crt", "configmaps/ns/vol-cm",
		"persistentvolumeclaims/ns/data", "persistentvolumeclaims/ns/p-d",
		"secrets/ns/env-secret", "secrets/ns/key-secret", "secrets/ns/proj-secret", "secrets/ns/pull", "secrets/ns/vol-secret",
		"serviceaccounts/ns/runner",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("refs:\n got %v\nwant %v", got, want)
	}
}

// TestRefCounter: a reference shared by two pods keeps its stream until the
// last of them lets go; a relist that lacks a pod releases its references.
func TestRefCounter(t *testing.T) {
	var log []string
	c := newRefCounter(func(r ref) func() {
		log = append(log, "start "+r.name)
		return func() { log = append(log, "stop "+r.name) }
	})
	podWith := func(name, cm string) *unstructured.Unstructured {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Spec: corev1.PodSpec{
			ServiceAccountName: "sa",
			Volumes: []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: cm}}}}},
		}}
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(p)
		if err != nil {
			t.Fatal(err)
		}
		return &unstructured.Unstructured{Object: u}
	}
	step := func(what string, f func(), want ...string) {
		t.Helper()
		log = nil
		f()
		sort.Strings(log)
		sort.Strings(want)
		if fmt.Sprint(log) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", what, log, want)
		}
	}
	step("first pod", func() { c.podEvent(podWith("p1", "shared"), false) }, "start sa", "start shared")
	step("second pod, same refs", func() { c.podEvent(podWith("p2", "shared"), false) })
	step("p1 changes its configmap", func() { c.podEvent(podWith("p1", "own"), false) }, "start own")
	step("p2 deleted", func() { c.podEvent(podWith("p2", "shared"), true) }, "stop shared")
	step("relist without p1", func() { c.podsListed(map[string]struct{}{}) }, "stop own", "stop sa")
}
