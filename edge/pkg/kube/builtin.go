package kube

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// builtin is kube-apiserver's own resource table for the groups client-go's
// scheme knows (names, scope, short names and categories as its discovery
// reports them). Plurals come from here, never from guessing.
type builtin struct {
	group, version, resource, kind string
	namespaced                     bool
	shortNames                     []string
	categories                     []string
}

var all = []string{"all"}

// builtins lists, per group, the preferred version first.
var builtins = []builtin{
	{"", "v1", "componentstatuses", "ComponentStatus", false, []string{"cs"}, nil},
	{"", "v1", "configmaps", "ConfigMap", true, []string{"cm"}, nil},
	{"", "v1", "endpoints", "Endpoints", true, []string{"ep"}, nil},
	{"", "v1", "events", "Event", true, []string{"ev"}, nil},
	{"", "v1", "limitranges", "LimitRange", true, []string{"limits"}, nil},
	{"", "v1", "namespaces", "Namespace", false, []string{"ns"}, nil},
	{"", "v1", "nodes", "Node", false, []string{"no"}, nil},
	{"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, []string{"pvc"}, nil},
	{"", "v1", "persistentvolumes", "PersistentVolume", false, []string{"pv"}, nil},
	{"", "v1", "pods", "Pod", true, []string{"po"}, all},
	{"", "v1", "podtemplates", "PodTemplate", true, nil, nil},
	{"", "v1", "replicationcontrollers", "ReplicationController", true, []string{"rc"}, all},
	{"", "v1", "resourcequotas", "ResourceQuota", true, []string{"quota"}, nil},
	{"", "v1", "secrets", "Secret", true, nil, nil},
	{"", "v1", "serviceaccounts", "ServiceAccount", true, []string{"sa"}, nil},
	{"", "v1", "services", "Service", true, []string{"svc"}, all},

	{"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false, nil, []string{"api-extensions"}},
	{"admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", false, nil, []string{"api-extensions"}},
	{"admissionregistration.k8s.io", "v1", "validatingadmissionpolicies", "ValidatingAdmissionPolicy", false, nil, []string{"api-extensions"}},
	{"admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings", "ValidatingAdmissionPolicyBinding", false, nil, []string{"api-extensions"}},
	{"apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false, []string{"crd", "crds"}, []string{"api-extensions"}},
	{"apiregistration.k8s.io", "v1", "apiservices", "APIService", false, nil, []string{"api-extensions"}},
	{"apps", "v1", "controllerrevisions", "ControllerRevision", true, nil, nil},
	{"apps", "v1", "daemonsets", "DaemonSet", true, []string{"ds"}, all},
	{"apps", "v1", "deployments", "Deployment", true, []string{"deploy"}, all},
	{"apps", "v1", "replicasets", "ReplicaSet", true, []string{"rs"}, all},
	{"apps", "v1", "statefulsets", "StatefulSet", true, []string{"sts"}, all},
	{"autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, []string{"hpa"}, all},
	{"autoscaling", "v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, []string{"hpa"}, all},
	{"batch", "v1", "cronjobs", "CronJob", true, []string{"cj"}, all},
	{"batch", "v1", "jobs", "Job", true, nil, all},
	{"certificates.k8s.io", "v1", "certificatesigningrequests", "CertificateSigningRequest", false, []string{"csr"}, nil},
	{"coordination.k8s.io", "v1", "leases", "Lease", true, nil, nil},
	{"discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true, nil, nil},
	{"events.k8s.io", "v1", "events", "Event", true, []string{"ev"}, nil},
	{"flowcontrol.apiserver.k8s.io", "v1", "flowschemas", "FlowSchema", false, nil, nil},
	{"flowcontrol.apiserver.k8s.io", "v1", "prioritylevelconfigurations", "PriorityLevelConfiguration", false, nil, nil},
	{"networking.k8s.io", "v1", "ingressclasses", "IngressClass", false, nil, nil},
	{"networking.k8s.io", "v1", "ingresses", "Ingress", true, []string{"ing"}, nil},
	{"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true, []string{"netpol"}, nil},
	{"node.k8s.io", "v1", "runtimeclasses", "RuntimeClass", false, nil, nil},
	{"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, []string{"pdb"}, nil},
	{"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false, nil, nil},
	{"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false, nil, nil},
	{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true, nil, nil},
	{"rbac.authorization.k8s.io", "v1", "roles", "Role", true, nil, nil},
	{"scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", false, []string{"pc"}, nil},
	{"storage.k8s.io", "v1", "csidrivers", "CSIDriver", false, nil, nil},
	{"storage.k8s.io", "v1", "csinodes", "CSINode", false, nil, nil},
	{"storage.k8s.io", "v1", "csistoragecapacities", "CSIStorageCapacity", true, nil, nil},
	{"storage.k8s.io", "v1", "storageclasses", "StorageClass", false, []string{"sc"}, nil},
	{"storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", false, nil, nil},
}

func (b builtin) describe() Resource {
	return Resource{
		GVR:          schema.GroupVersionResource{Group: b.group, Version: b.version, Resource: b.resource},
		Kind:         b.kind,
		ListKind:     b.kind + "List",
		SingularName: lower(b.kind),
		Namespaced:   b.namespaced,
		ShortNames:   b.shortNames,
		Categories:   b.categories,
	}
}

// toResource describes b; BuiltIn says whether client-go's scheme has its Go
// type (CRDs and APIServices live in other modules' schemes: JSON only).
func (b builtin) toResource() Resource {
	r := b.describe()
	r.BuiltIn = scheme.Scheme.Recognizes(r.GVK())
	return r
}
