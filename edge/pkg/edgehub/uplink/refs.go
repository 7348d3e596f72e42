package uplink

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
)

// Resources of the objects a pod references.
var (
	configMaps      = GVR{Version: "v1", Resource: "configmaps"}
	secrets         = GVR{Version: "v1", Resource: "secrets"}
	serviceAccounts = GVR{Version: "v1", Resource: "serviceaccounts"}
	pvcs            = GVR{Version: "v1", Resource: "persistentvolumeclaims"}
)

// ref names one object a pod references.
type ref struct {
	gvr             GVR
	namespace, name string
}

// podRefs lists what a pod needs besides itself, as kubelet fetches it:
// ConfigMaps and Secrets of volumes (also projected), env and envFrom, image
// pull secrets, its ServiceAccount, and its PersistentVolumeClaims (also the
// ones generic ephemeral volumes create, named <pod>-<volume>).
func podRefs(pod *corev1.Pod) []ref {
	set := map[ref]struct{}{}
	add := func(gvr GVR, name string) {
		if name != "" {
			set[ref{gvr, pod.Namespace, name}] = struct{}{}
		}
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	add(serviceAccounts, sa)
	for _, s := range pod.Spec.ImagePullSecrets {
		add(secrets, s.Name)
	}
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.ConfigMap != nil:
			add(configMaps, v.ConfigMap.Name)
		case v.Secret != nil:
			add(secrets, v.Secret.SecretName)
		case v.PersistentVolumeClaim != nil:
			add(pvcs, v.PersistentVolumeClaim.ClaimName)
		case v.Ephemeral != nil:
			add(pvcs, pod.Name+"-"+v.Name)
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				if src.ConfigMap != nil {
					add(configMaps, src.ConfigMap.Name)
				}
				if src.Secret != nil {
					add(secrets, src.Secret.Name)
				}
			}
		}
	}
	visit := func(c *corev1.Container) {
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil {
				add(configMaps, e.ConfigMapRef.Name)
			}
			if e.SecretRef != nil {
				add(secrets, e.SecretRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if e.ValueFrom.ConfigMapKeyRef != nil {
				add(configMaps, e.ValueFrom.ConfigMapKeyRef.Name)
			}
			if e.ValueFrom.SecretKeyRef != nil {
				add(secrets, e.ValueFrom.SecretKeyRef.Name)
			}
		}
	}
	for i := range pod.Spec.InitContainers {
		visit(&pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		visit(&pod.Spec.Containers[i])
	}
	for i := range pod.Spec.EphemeralContainers {
		visit((*corev1.Container)(&pod.Spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
	out := make([]ref, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	return out
}

// refCounter keeps one by-name stream per object some pod references, and
// stops it (the object is then dropped from the edge) when no pod does.
type refCounter struct {
	mu     sync.Mutex
	byPod  map[string][]ref // "namespace/name" of the pod → its references
	counts map[ref]int
	stops  map[ref]func()
	// start starts the by-name stream of r and returns what stops it.
	start func(r ref) (stop func())
}

func newRefCounter(start func(ref) func()) *refCounter {
	return &refCounter{byPod: map[string][]ref{}, counts: map[ref]int{}, stops: map[ref]func(){}, start: start}
}

// podEvent updates the references of one pod (deleted: it has none).
func (c *refCounter) podEvent(obj *unstructured.Unstructured, deleted bool) {
	key := objKey(obj.GetNamespace(), obj.GetName())
	var refs []ref
	if !deleted {
		var pod corev1.Pod
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &pod); err != nil {
			klog.Errorf("uplink: pod %s: %v", key, err)
			return
		}
		refs = podRefs(&pod)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set(key, refs)
}

// podsListed drops the references of every pod a list did not hold.
func (c *refCounter) podsListed(seen map[string]struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key := range c.byPod {
		if _, ok := seen[key]; !ok {
			c.set(key, nil)
		}
	}
}

// set replaces pod key's references: new ones first (a reference that
// moves stays held), then the old ones are released.
func (c *refCounter) set(key string, refs []ref) {
	old := c.byPod[key]
	for _, r := range refs {
		c.counts[r]++
		if c.counts[r] == 1 {
			c.stops[r] = c.start(r)
		}
	}
	for _, r := range old {
		c.counts[r]--
		if c.counts[r] == 0 {
			delete(c.counts, r)
			if stop := c.stops[r]; stop != nil {
				stop()
			}
			delete(c.stops, r)
		}
	}
	if len(refs) == 0 {
		delete(c.byPod, key)
	} else {
		c.byPod[key] = refs
	}
}
