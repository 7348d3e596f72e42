package printers

import (
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	appsv1beta1 "k8s.io/api/apps/v1beta1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	batchv1beta1 "k8s.io/api/batch/v1beta1"
	certificatesv1 "k8s.io/api/certificates/v1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	discoveryv1beta1 "k8s.io/api/discovery/v1beta1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	rbacv1beta1 "k8s.io/api/rbac/v1beta1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/sets"
)

var metaDoc = metav1.ObjectMeta{}.SwaggerDoc()

var (
	nameColumn = metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: metaDoc["name"]}
	ageColumn  = metav1.TableColumnDefinition{Name: "Age", Type: "string", Description: metaDoc["creationTimestamp"]}
	// The default convertor's (k8s.io/apiserver registry/rest) columns, for
	// kinds kube-apiserver has no printer for.
	defaultColumns = []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Created At", Type: "date", Description: metaDoc["creationTimestamp"]},
	}
)

func col(name, typ, desc string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: desc}
}

func wide(name, typ, desc string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: desc, Priority: 1}
}

type rowFunc = func(data []byte, m *objMeta, sc *scratch) ([]interface{}, []metav1.TableRowCondition, error)

// typed decodes the object into T (only for kinds whose lists are small;
// pods, configmaps and secrets use the scanner).
func typed[T any](f func(obj *T, m *objMeta) []interface{}) rowFunc {
	return func(data []byte, m *objMeta, _ *scratch) ([]interface{}, []metav1.TableRowCondition, error) {
		obj := new(T)
		if err := json.Unmarshal(data, obj); err != nil {
			return nil, nil, err
		}
		return f(obj, m), nil, nil
	}
}

const (
	containersDesc = "Names of each container in the template."
	imagesDesc     = "Images referenced by each container in the template."
)

// builtinPrinters maps group/resource to kube-apiserver's printer for it.
var builtinPrinters = map[schema.GroupResource]*kindPrinter{}

func register(group, resource string, kp *kindPrinter) {
	builtinPrinters[schema.GroupResource{Group: group, Resource: resource}] = kp
}

func init() {
	register("", "pods", &kindPrinter{columns: podColumns, walk: walkPod})

	register("", "podtemplates", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Containers", "string", containersDesc),
			col("Images", "string", imagesDesc),
			col("Pod Labels", "string", "The labels for the pod template.")},
		row: typed(func(o *corev1.PodTemplate, m *objMeta) []interface{} {
			names, images := layoutContainerCells(o.Template.Spec.Containers)
			return []interface{}{m.name, names, images, labels.FormatLabels(o.Template.Labels)}
		}),
	})

	register("", "replicationcontrollers", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Desired", "integer", corev1.ReplicationControllerSpec{}.SwaggerDoc()["replicas"]),
			col("Current", "integer", corev1.ReplicationControllerStatus{}.SwaggerDoc()["replicas"]),
			col("Ready", "integer", corev1.ReplicationControllerStatus{}.SwaggerDoc()["readyReplicas"]),
			ageColumn,
			wide("Containers", "string", containersDesc),
			wide("Images", "string", imagesDesc),
			wide("Selector", "string", corev1.ReplicationControllerSpec{}.SwaggerDoc()["selector"])},
		row: typed(func(o *corev1.ReplicationController, m *objMeta) []interface{} {
			var containers []corev1.Container
			if o.Spec.Template != nil {
				containers = o.Spec.Template.Spec.Containers
			}
			names, images := layoutContainerCells(containers)
			return []interface{}{m.name, int64(replicas(o.Spec.Replicas)), int64(o.Status.Replicas), int64(o.Status.ReadyReplicas),
				sinceCell{m.created}, names, images, labels.FormatLabels(o.Spec.Selector)}
		}),
	})

	register("", "services", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Type", "string", corev1.ServiceSpec{}.SwaggerDoc()["type"]),
			col("Cluster-IP", "string", corev1.ServiceSpec{}.SwaggerDoc()["clusterIP"]),
			col("External-IP", "string", corev1.ServiceSpec{}.SwaggerDoc()["externalIPs"]),
			col("Port(s)", "string", corev1.ServiceSpec{}.SwaggerDoc()["ports"]),
			ageColumn,
			wide("Selector", "string", corev1.ServiceSpec{}.SwaggerDoc()["selector"])},
		row: typed(printService),
	})

	register("", "endpoints", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Endpoints", "string", corev1.Endpoints{}.SwaggerDoc()["subsets"]),
			ageColumn},
		row: typed(func(o *corev1.Endpoints, m *objMeta) []interface{} {
			return []interface{}{m.name, formatEndpoints(o), sinceCell{m.created}}
		}),
	})

	register("", "nodes", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Status", "string", "The status of the node"),
			col("Roles", "string", "The roles of the node"),
			ageColumn,
			col("Version", "string", corev1.NodeSystemInfo{}.SwaggerDoc()["kubeletVersion"]),
			wide("Internal-IP", "string", corev1.NodeStatus{}.SwaggerDoc()["addresses"]),
			wide("External-IP", "string", corev1.NodeStatus{}.SwaggerDoc()["addresses"]),
			wide("OS-Image", "string", corev1.NodeSystemInfo{}.SwaggerDoc()["osImage"]),
			wide("Kernel-Version", "string", corev1.NodeSystemInfo{}.SwaggerDoc()["kernelVersion"]),
			wide("Container-Runtime", "string", corev1.NodeSystemInfo{}.SwaggerDoc()["containerRuntimeVersion"])},
		row: typed(printNode),
	})

	eventColumns := []metav1.TableColumnDefinition{
		col("Last Seen", "string", corev1.Event{}.SwaggerDoc()["lastTimestamp"]),
		col("Type", "string", corev1.Event{}.SwaggerDoc()["type"]),
		col("Reason", "string", corev1.Event{}.SwaggerDoc()["reason"]),
		col("Object", "string", corev1.Event{}.SwaggerDoc()["involvedObject"]),
		wide("Subobject", "string", corev1.Event{}.InvolvedObject.SwaggerDoc()["fieldPath"]),
		wide("Source", "string", corev1.Event{}.SwaggerDoc()["source"]),
		col("Message", "string", corev1.Event{}.SwaggerDoc()["message"]),
		wide("First Seen", "string", corev1.Event{}.SwaggerDoc()["firstTimestamp"]),
		wide("Count", "string", corev1.Event{}.SwaggerDoc()["count"]),
		{Name: "Name", Type: "string", Priority: 1, Format: "name", Description: metaDoc["name"]},
	}
	register("", "events", &kindPrinter{columns: eventColumns, row: typed(printEvent)})
	register("events.k8s.io", "events", &kindPrinter{columns: eventColumns, row: typed(func(o *eventsV1Event, m *objMeta) []interface{} {
		return printEvent(o.toCore(), m)
	})})

	register("", "namespaces", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn, col("Status", "string", "The status of the namespace"), ageColumn},
		row: typed(func(o *struct {
			Status corev1.NamespaceStatus `json:"status"`
		}, m *objMeta) []interface{} {
			return []interface{}{m.name, string(o.Status.Phase), sinceCell{m.created}}
		}),
	})

	register("", "secrets", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Type", "string", corev1.Secret{}.SwaggerDoc()["type"]),
			col("Data", "string", corev1.Secret{}.SwaggerDoc()["data"]),
			ageColumn},
		row: func(data []byte, m *objMeta, _ *scratch) ([]interface{}, []metav1.TableRowCondition, error) {
			typ, n := "", 0
			err := walkTop(data, func(key []byte, s *scanner) {
				switch string(key) {
				case "type":
					typ = s.str()
				case "data":
					n = s.countMembers()
				default:
					s.skip()
				}
			})
			if typ == "" {
				typ = string(corev1.SecretTypeOpaque)
			}
			return []interface{}{m.name, typ, int64(n), sinceCell{m.created}}, nil, err
		},
	})

	register("", "configmaps", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn, col("Data", "string", corev1.ConfigMap{}.SwaggerDoc()["data"]), ageColumn},
		row: func(data []byte, m *objMeta, _ *scratch) ([]interface{}, []metav1.TableRowCondition, error) {
			n := 0
			err := walkTop(data, func(key []byte, s *scanner) {
				switch string(key) {
				case "data", "binaryData":
					n += s.countMembers()
				default:
					s.skip()
				}
			})
			return []interface{}{m.name, int64(n), sinceCell{m.created}}, nil, err
		},
	})

	register("", "serviceaccounts", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn, ageColumn},
		row:     nameAge,
	})

	register("", "persistentvolumes", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Capacity", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["capacity"]),
			col("Access Modes", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["accessModes"]),
			col("Reclaim Policy", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["persistentVolumeReclaimPolicy"]),
			col("Status", "string", corev1.PersistentVolumeStatus{}.SwaggerDoc()["phase"]),
			col("Claim", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["claimRef"]),
			col("StorageClass", "string", "StorageClass of the pv"),
			col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
			col("Reason", "string", corev1.PersistentVolumeStatus{}.SwaggerDoc()["reason"]),
			ageColumn,
			wide("VolumeMode", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["volumeMode"])},
		row: typed(printPersistentVolume),
	})

	register("", "persistentvolumeclaims", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Status", "string", corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["phase"]),
			col("Volume", "string", corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()["volumeName"]),
			col("Capacity", "string", corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["capacity"]),
			col("Access Modes", "string", corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["accessModes"]),
			col("StorageClass", "string", "StorageClass of the pvc"),
			col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
			ageColumn,
			wide("VolumeMode", "string", corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()["volumeMode"])},
		row: typed(printPersistentVolumeClaim),
	})

	register("", "componentstatuses", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Status", "string", "Status of the component conditions"),
			col("Message", "string", "Message of the component conditions"),
			col("Error", "string", "Error of the component conditions")},
		row: typed(func(o *corev1.ComponentStatus, m *objMeta) []interface{} {
			status, message, errStr := "Unknown", "", ""
			for _, c := range o.Conditions {
				if c.Type == corev1.ComponentHealthy {
					if c.Status == corev1.ConditionTrue {
						status = "Healthy"
					} else {
						status = "Unhealthy"
					}
					message, errStr = c.Message, c.Error
					break
				}
			}
			return []interface{}{m.name, status, message, errStr}
		}),
	})

	register("", "resourcequotas", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
			col("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
			ageColumn},
		row: typed(printResourceQuota),
	})

	register("apps", "deployments", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Ready", "string", "Number of the pod with ready state"),
			col("Up-to-date", "string", extensionsv1beta1.DeploymentStatus{}.SwaggerDoc()["updatedReplicas"]),
			col("Available", "string", extensionsv1beta1.DeploymentStatus{}.SwaggerDoc()["availableReplicas"]),
			ageColumn,
			wide("Containers", "string", containersDesc),
			wide("Images", "string", imagesDesc),
			wide("Selector", "string", extensionsv1beta1.DeploymentSpec{}.SwaggerDoc()["selector"])},
		row: typed(func(o *appsv1.Deployment, m *objMeta) []interface{} {
			selector := "<invalid>"
			if sel, err := metav1.LabelSelectorAsSelector(o.Spec.Selector); err == nil {
				selector = sel.String()
			}
			names, images := layoutContainerCells(o.Spec.Template.Spec.Containers)
			return []interface{}{m.name, fmt.Sprintf("%d/%d", int64(o.Status.ReadyReplicas), int64(replicas(o.Spec.Replicas))),
				int64(o.Status.UpdatedReplicas), int64(o.Status.AvailableReplicas), sinceCell{m.created}, names, images, selector}
		}),
	})

	register("apps", "replicasets", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Desired", "integer", extensionsv1beta1.ReplicaSetSpec{}.SwaggerDoc()["replicas"]),
			col("Current", "integer", extensionsv1beta1.ReplicaSetStatus{}.SwaggerDoc()["replicas"]),
			col("Ready", "integer", extensionsv1beta1.ReplicaSetStatus{}.SwaggerDoc()["readyReplicas"]),
			ageColumn,
			wide("Containers", "string", containersDesc),
			wide("Images", "string", imagesDesc),
			wide("Selector", "string", extensionsv1beta1.ReplicaSetSpec{}.SwaggerDoc()["selector"])},
		row: typed(func(o *appsv1.ReplicaSet, m *objMeta) []interface{} {
			names, images := layoutContainerCells(o.Spec.Template.Spec.Containers)
			return []interface{}{m.name, int64(replicas(o.Spec.Replicas)), int64(o.Status.Replicas), int64(o.Status.ReadyReplicas),
				sinceCell{m.created}, names, images, metav1.FormatLabelSelector(o.Spec.Selector)}
		}),
	})

	register("apps", "daemonsets", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Desired", "integer", extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["desiredNumberScheduled"]),
			col("Current", "integer", extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["currentNumberScheduled"]),
			col("Ready", "integer", extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["numberReady"]),
			col("Up-to-date", "integer", extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["updatedNumberScheduled"]),
			col("Available", "integer", extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["numberAvailable"]),
			col("Node Selector", "string", corev1.PodSpec{}.SwaggerDoc()["nodeSelector"]),
			ageColumn,
			wide("Containers", "string", containersDesc),
			wide("Images", "string", imagesDesc),
			wide("Selector", "string", extensionsv1beta1.DaemonSetSpec{}.SwaggerDoc()["selector"])},
		row: typed(func(o *appsv1.DaemonSet, m *objMeta) []interface{} {
			names, images := layoutContainerCells(o.Spec.Template.Spec.Containers)
			st := o.Status
			return []interface{}{m.name, int64(st.DesiredNumberScheduled), int64(st.CurrentNumberScheduled), int64(st.NumberReady),
				int64(st.UpdatedNumberScheduled), int64(st.NumberAvailable), labels.FormatLabels(o.Spec.Template.Spec.NodeSelector),
				sinceCell{m.created}, names, images, metav1.FormatLabelSelector(o.Spec.Selector)}
		}),
	})

	register("apps", "statefulsets", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Ready", "string", "Number of the pod with ready state"),
			ageColumn,
			wide("Containers", "string", containersDesc),
			wide("Images", "string", imagesDesc)},
		row: typed(func(o *appsv1.StatefulSet, m *objMeta) []interface{} {
			names, images := layoutContainerCells(o.Spec.Template.Spec.Containers)
			return []interface{}{m.name, fmt.Sprintf("%d/%d", int64(o.Status.ReadyReplicas), int64(replicas(o.Spec.Replicas))),
				sinceCell{m.created}, names, images}
		}),
	})

	register("apps", "controllerrevisions", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Controller", "string", "Controller of the object"),
			col("Revision", "string", appsv1beta1.ControllerRevision{}.SwaggerDoc()["revision"]),
			ageColumn},
		row: func(data []byte, m *objMeta, _ *scratch) ([]interface{}, []metav1.TableRowCondition, error) {
			var o appsv1.ControllerRevision
			if err := json.Unmarshal(data, &o); err != nil {
				return nil, nil, err
			}
			controller := "<none>"
			if ref := metav1.GetControllerOf(&o); ref != nil {
				gv, err := schema.ParseGroupVersion(ref.APIVersion)
				if err != nil {
					return nil, nil, err
				}
				gk := gv.WithKind(ref.Kind).GroupKind()
				controller = ref.Name
				if !gk.Empty() {
					controller = strings.ToLower(gk.String()) + "/" + ref.Name
				}
			}
			return []interface{}{m.name, controller, o.Revision, sinceCell{m.created}}, nil, nil
		},
	})

	register("batch", "jobs", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Status", "string", "Status of the job."),
			col("Completions", "string", batchv1.JobStatus{}.SwaggerDoc()["succeeded"]),
			col("Duration", "string", "Time required to complete the job."),
			ageColumn,
			wide("Containers", "string", containersDesc),
			wide("Images", "string", imagesDesc),
			wide("Selector", "string", batchv1.JobSpec{}.SwaggerDoc()["selector"])},
		row: typed(printJob),
	})

	register("batch", "cronjobs", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Schedule", "string", batchv1beta1.CronJobSpec{}.SwaggerDoc()["schedule"]),
			col("Timezone", "string", batchv1beta1.CronJobSpec{}.SwaggerDoc()["timeZone"]),
			col("Suspend", "boolean", batchv1beta1.CronJobSpec{}.SwaggerDoc()["suspend"]),
			col("Active", "integer", batchv1beta1.CronJobStatus{}.SwaggerDoc()["active"]),
			col("Last Schedule", "string", batchv1beta1.CronJobStatus{}.SwaggerDoc()["lastScheduleTime"]),
			ageColumn,
			wide("Containers", "string", containersDesc),
			wide("Images", "string", imagesDesc),
			wide("Selector", "string", batchv1.JobSpec{}.SwaggerDoc()["selector"])},
		row: typed(func(o *batchv1.CronJob, m *objMeta) []interface{} {
			var last interface{} = "<none>"
			if o.Status.LastScheduleTime != nil {
				last = sinceCell{o.Status.LastScheduleTime.Time}
			}
			tz := "<none>"
			if o.Spec.TimeZone != nil {
				tz = *o.Spec.TimeZone
			}
			names, images := layoutContainerCells(o.Spec.JobTemplate.Spec.Template.Spec.Containers)
			return []interface{}{m.name, o.Spec.Schedule, tz, printBoolPtr(o.Spec.Suspend), int64(len(o.Status.Active)), last,
				sinceCell{m.created}, names, images, metav1.FormatLabelSelector(o.Spec.JobTemplate.Spec.Selector)}
		}),
	})

	register("coordination.k8s.io", "leases", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Holder", "string", coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]),
			ageColumn},
		row: typed(func(o *coordinationv1.Lease, m *objMeta) []interface{} {
			holder := ""
			if o.Spec.HolderIdentity != nil {
				holder = *o.Spec.HolderIdentity
			}
			return []interface{}{m.name, holder, sinceCell{m.created}}
		}),
	})

	register("networking.k8s.io", "ingresses", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Class", "string", "The name of the IngressClass resource that should be used for additional configuration"),
			col("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
			col("Address", "string", "Address is a list containing ingress points for the load-balancer"),
			col("Ports", "string", "Ports of TLS configurations that open"),
			ageColumn},
		row: typed(func(o *networkingv1.Ingress, m *objMeta) []interface{} {
			class := "<none>"
			if o.Spec.IngressClassName != nil {
				class = *o.Spec.IngressClassName
			}
			return []interface{}{m.name, class, formatHosts(o.Spec.Rules), lbString(o.Status.LoadBalancer.Ingress, func(i networkingv1.IngressLoadBalancerIngress) (string, string) { return i.IP, i.Hostname }), formatIngressPorts(o.Spec.TLS), sinceCell{m.created}}
		}),
	})

	register("networking.k8s.io", "ingressclasses", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Controller", "string", "Controller that is responsible for handling this class"),
			col("Parameters", "string", "A reference to a resource with additional parameters"),
			ageColumn},
		row: typed(func(o *networkingv1.IngressClass, m *objMeta) []interface{} {
			params := "<none>"
			if p := o.Spec.Parameters; p != nil {
				params = p.Kind
				if p.APIGroup != nil {
					params += "." + *p.APIGroup
				}
				params += "/" + p.Name
			}
			return []interface{}{m.name, o.Spec.Controller, params, sinceCell{m.created}}
		}),
	})

	register("networking.k8s.io", "networkpolicies", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Pod-Selector", "string", extensionsv1beta1.NetworkPolicySpec{}.SwaggerDoc()["podSelector"]),
			ageColumn},
		row: typed(func(o *networkingv1.NetworkPolicy, m *objMeta) []interface{} {
			return []interface{}{m.name, metav1.FormatLabelSelector(&o.Spec.PodSelector), sinceCell{m.created}}
		}),
	})

	register("discovery.k8s.io", "endpointslices", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("AddressType", "string", discoveryv1beta1.EndpointSlice{}.SwaggerDoc()["addressType"]),
			col("Ports", "string", discoveryv1beta1.EndpointSlice{}.SwaggerDoc()["ports"]),
			col("Endpoints", "string", discoveryv1beta1.EndpointSlice{}.SwaggerDoc()["endpoints"]),
			ageColumn},
		row: typed(func(o *discoveryv1.EndpointSlice, m *objMeta) []interface{} {
			return []interface{}{m.name, string(o.AddressType), formatDiscoveryPorts(o.Ports), formatDiscoveryEndpoints(o.Endpoints), sinceCell{m.created}}
		}),
	})

	roleBindingColumns := func(what string) []metav1.TableColumnDefinition {
		return []metav1.TableColumnDefinition{nameColumn,
			col("Role", "string", rbacv1beta1.RoleBinding{}.SwaggerDoc()["roleRef"]),
			ageColumn,
			wide("Users", "string", "Users in the "+what),
			wide("Groups", "string", "Groups in the "+what),
			wide("ServiceAccounts", "string", "ServiceAccounts in the "+what)}
	}
	bindingRow := func(ref rbacv1.RoleRef, subjects []rbacv1.Subject, m *objMeta) []interface{} {
		users, groups, sas := subjectsStrings(subjects)
		return []interface{}{m.name, ref.Kind + "/" + ref.Name, sinceCell{m.created},
			strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", ")}
	}
	register("rbac.authorization.k8s.io", "rolebindings", &kindPrinter{
		columns: roleBindingColumns("roleBinding"),
		row: typed(func(o *rbacv1.RoleBinding, m *objMeta) []interface{} {
			return bindingRow(o.RoleRef, o.Subjects, m)
		}),
	})
	register("rbac.authorization.k8s.io", "clusterrolebindings", &kindPrinter{
		columns: roleBindingColumns("clusterRoleBinding"),
		row: typed(func(o *rbacv1.ClusterRoleBinding, m *objMeta) []interface{} {
			return bindingRow(o.RoleRef, o.Subjects, m)
		}),
	})

	register("policy", "poddisruptionbudgets", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Min Available", "string", "The minimum number of pods that must be available."),
			col("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
			col("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
			ageColumn},
		row: typed(func(o *policyv1.PodDisruptionBudget, m *objMeta) []interface{} {
			minA, maxU := "N/A", "N/A"
			if o.Spec.MinAvailable != nil {
				minA = o.Spec.MinAvailable.String()
			}
			if o.Spec.MaxUnavailable != nil {
				maxU = o.Spec.MaxUnavailable.String()
			}
			return []interface{}{m.name, minA, maxU, int64(o.Status.DisruptionsAllowed), sinceCell{m.created}}
		}),
	})

	register("scheduling.k8s.io", "priorityclasses", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Value", "integer", schedulingv1.PriorityClass{}.SwaggerDoc()["value"]),
			col("Global-Default", "boolean", schedulingv1.PriorityClass{}.SwaggerDoc()["globalDefault"]),
			ageColumn,
			col("PreemptionPolicy", "string", schedulingv1.PriorityClass{}.SwaggerDoc()["preemptionPolicy"])},
		row: typed(func(o *schedulingv1.PriorityClass, m *objMeta) []interface{} {
			policy := string(corev1.PreemptLowerPriority) // v1 default
			if o.PreemptionPolicy != nil {
				policy = string(*o.PreemptionPolicy)
			}
			return []interface{}{m.name, int64(o.Value), o.GlobalDefault, sinceCell{m.created}, policy}
		}),
	})

	register("node.k8s.io", "runtimeclasses", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Handler", "string", metaDoc["handler"]),
			ageColumn},
		row: typed(func(o *nodev1.RuntimeClass, m *objMeta) []interface{} {
			return []interface{}{m.name, o.Handler, sinceCell{m.created}}
		}),
	})

	register("storage.k8s.io", "storageclasses", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Provisioner", "string", storagev1.StorageClass{}.SwaggerDoc()["provisioner"]),
			col("ReclaimPolicy", "string", storagev1.StorageClass{}.SwaggerDoc()["reclaimPolicy"]),
			col("VolumeBindingMode", "string", storagev1.StorageClass{}.SwaggerDoc()["volumeBindingMode"]),
			col("AllowVolumeExpansion", "string", storagev1.StorageClass{}.SwaggerDoc()["allowVolumeExpansion"]),
			ageColumn},
		row: typed(func(o *storagev1.StorageClass, m *objMeta) []interface{} {
			name := m.name
			if isDefaultStorageClass(o.Annotations) {
				name += " (default)"
			}
			reclaim := string(corev1.PersistentVolumeReclaimDelete)
			if o.ReclaimPolicy != nil {
				reclaim = string(*o.ReclaimPolicy)
			}
			binding := string(storagev1.VolumeBindingImmediate)
			if o.VolumeBindingMode != nil {
				binding = string(*o.VolumeBindingMode)
			}
			expand := o.AllowVolumeExpansion != nil && *o.AllowVolumeExpansion
			return []interface{}{name, o.Provisioner, reclaim, binding, expand, sinceCell{m.created}}
		}),
	})

	register("storage.k8s.io", "volumeattachments", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			{Name: "Attacher", Type: "string", Format: "name", Description: storagev1.VolumeAttachmentSpec{}.SwaggerDoc()["attacher"]},
			col("PV", "string", storagev1.VolumeAttachmentSource{}.SwaggerDoc()["persistentVolumeName"]),
			col("Node", "string", storagev1.VolumeAttachmentSpec{}.SwaggerDoc()["nodeName"]),
			col("Attached", "boolean", storagev1.VolumeAttachmentStatus{}.SwaggerDoc()["attached"]),
			ageColumn},
		row: typed(func(o *storagev1.VolumeAttachment, m *objMeta) []interface{} {
			pv := ""
			if o.Spec.Source.PersistentVolumeName != nil {
				pv = *o.Spec.Source.PersistentVolumeName
			}
			return []interface{}{m.name, o.Spec.Attacher, pv, o.Spec.NodeName, o.Status.Attached, sinceCell{m.created}}
		}),
	})

	register("storage.k8s.io", "csinodes", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node"),
			ageColumn},
		row: typed(func(o *storagev1.CSINode, m *objMeta) []interface{} {
			return []interface{}{m.name, int64(len(o.Spec.Drivers)), sinceCell{m.created}}
		}),
	})

	register("storage.k8s.io", "csidrivers", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("AttachRequired", "boolean", storagev1.CSIDriverSpec{}.SwaggerDoc()["attachRequired"]),
			col("PodInfoOnMount", "boolean", storagev1.CSIDriverSpec{}.SwaggerDoc()["podInfoOnMount"]),
			col("StorageCapacity", "boolean", storagev1.CSIDriverSpec{}.SwaggerDoc()["storageCapacity"]),
			col("TokenRequests", "string", storagev1.CSIDriverSpec{}.SwaggerDoc()["tokenRequests"]),
			col("RequiresRepublish", "boolean", storagev1.CSIDriverSpec{}.SwaggerDoc()["requiresRepublish"]),
			col("Modes", "string", storagev1.CSIDriverSpec{}.SwaggerDoc()["volumeLifecycleModes"]),
			ageColumn},
		row: typed(func(o *storagev1.CSIDriver, m *objMeta) []interface{} {
			deref := func(b *bool, def bool) bool {
				if b == nil {
					return def
				}
				return *b
			}
			var modes []string
			for _, mode := range o.Spec.VolumeLifecycleModes {
				modes = append(modes, string(mode))
			}
			modesStr := strings.Join(modes, ",")
			if modesStr == "" {
				modesStr = "<none>"
			}
			tokens := "<unset>"
			if o.Spec.TokenRequests != nil {
				var aud []string
				for _, t := range o.Spec.TokenRequests {
					aud = append(aud, t.Audience)
				}
				tokens = strings.Join(aud, ",")
			}
			return []interface{}{m.name, deref(o.Spec.AttachRequired, true), deref(o.Spec.PodInfoOnMount, false),
				deref(o.Spec.StorageCapacity, false), tokens, deref(o.Spec.RequiresRepublish, false), modesStr, sinceCell{m.created}}
		}),
	})

	register("storage.k8s.io", "csistoragecapacities", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("StorageClassName", "string", storagev1.CSIStorageCapacity{}.SwaggerDoc()["storageClassName"]),
			col("Capacity", "string", storagev1.CSIStorageCapacity{}.SwaggerDoc()["capacity"])},
		row: typed(func(o *storagev1.CSIStorageCapacity, m *objMeta) []interface{} {
			capacity := "<unset>"
			if o.Capacity != nil {
				capacity = o.Capacity.String()
			}
			return []interface{}{m.name, o.StorageClassName, capacity}
		}),
	})

	webhookColumns := []metav1.TableColumnDefinition{nameColumn,
		col("Webhooks", "integer", "Webhooks indicates the number of webhooks registered in this configuration"),
		ageColumn}
	register("admissionregistration.k8s.io", "mutatingwebhookconfigurations", &kindPrinter{columns: webhookColumns,
		row: typed(func(o *admissionv1.MutatingWebhookConfiguration, m *objMeta) []interface{} {
			return []interface{}{m.name, int64(len(o.Webhooks)), sinceCell{m.created}}
		})})
	register("admissionregistration.k8s.io", "validatingwebhookconfigurations", &kindPrinter{columns: webhookColumns,
		row: typed(func(o *admissionv1.ValidatingWebhookConfiguration, m *objMeta) []interface{} {
			return []interface{}{m.name, int64(len(o.Webhooks)), sinceCell{m.created}}
		})})
	register("admissionregistration.k8s.io", "validatingadmissionpolicies", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Validations", "integer", "Validations indicates the number of validation rules defined in this configuration"),
			col("ParamKind", "string", "ParamKind specifies the kind of resources used to parameterize this policy"),
			ageColumn},
		row: typed(func(o *admissionv1.ValidatingAdmissionPolicy, m *objMeta) []interface{} {
			paramKind := "<unset>"
			if o.Spec.ParamKind != nil {
				paramKind = o.Spec.ParamKind.APIVersion + "/" + o.Spec.ParamKind.Kind
			}
			return []interface{}{m.name, int64(len(o.Spec.Validations)), paramKind, sinceCell{m.created}}
		})})
	register("admissionregistration.k8s.io", "validatingadmissionpolicybindings", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("PolicyName", "string", "PolicyName indicates the policy definition which the policy binding binded to"),
			col("ParamRef", "string", "ParamRef indicates the param resource which sets the configration param"),
			ageColumn},
		row: typed(func(o *admissionv1.ValidatingAdmissionPolicyBinding, m *objMeta) []interface{} {
			param := "<unset>"
			if pr := o.Spec.ParamRef; pr != nil {
				if pr.Name != "" {
					if pr.Namespace != "" {
						param = pr.Namespace + "/" + pr.Name
					} else {
						param = "*/" + pr.Name
					}
				} else if pr.Selector != nil {
					param = pr.Selector.String()
				}
			}
			return []interface{}{m.name, o.Spec.PolicyName, param, sinceCell{m.created}}
		})})

	register("certificates.k8s.io", "certificatesigningrequests", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			ageColumn,
			col("SignerName", "string", certificatesv1beta1.CertificateSigningRequestSpec{}.SwaggerDoc()["signerName"]),
			col("Requestor", "string", certificatesv1beta1.CertificateSigningRequestSpec{}.SwaggerDoc()["request"]),
			col("RequestedDuration", "string", certificatesv1beta1.CertificateSigningRequestSpec{}.SwaggerDoc()["expirationSeconds"]),
			col("Condition", "string", certificatesv1beta1.CertificateSigningRequestStatus{}.SwaggerDoc()["conditions"])},
		row: typed(printCSR),
	})

	register("flowcontrol.apiserver.k8s.io", "flowschemas", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("PriorityLevel", "string", flowcontrolv1.PriorityLevelConfigurationReference{}.SwaggerDoc()["name"]),
			col("MatchingPrecedence", "string", flowcontrolv1.FlowSchemaSpec{}.SwaggerDoc()["matchingPrecedence"]),
			col("DistinguisherMethod", "string", flowcontrolv1.FlowSchemaSpec{}.SwaggerDoc()["distinguisherMethod"]),
			ageColumn,
			col("MissingPL", "string", "references a broken or non-existent PriorityLevelConfiguration")},
		row: typed(func(o *flowcontrolv1.FlowSchema, m *objMeta) []interface{} {
			dm := "<none>"
			if o.Spec.DistinguisherMethod != nil {
				dm = string(o.Spec.DistinguisherMethod.Type)
			}
			bad := "?"
			for _, c := range o.Status.Conditions {
				if c.Type == flowcontrolv1.FlowSchemaConditionDangling {
					bad = string(c.Status)
					break
				}
			}
			return []interface{}{m.name, o.Spec.PriorityLevelConfiguration.Name, int64(o.Spec.MatchingPrecedence), dm, sinceCell{m.created}, bad}
		}),
	})

	register("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Type", "string", flowcontrolv1.PriorityLevelConfigurationSpec{}.SwaggerDoc()["type"]),
			col("NominalConcurrencyShares", "string", flowcontrolv1.LimitedPriorityLevelConfiguration{}.SwaggerDoc()["nominalConcurrencyShares"]),
			col("Queues", "string", flowcontrolv1.QueuingConfiguration{}.SwaggerDoc()["queues"]),
			col("HandSize", "string", flowcontrolv1.QueuingConfiguration{}.SwaggerDoc()["handSize"]),
			col("QueueLengthLimit", "string", flowcontrolv1.QueuingConfiguration{}.SwaggerDoc()["queueLengthLimit"]),
			ageColumn},
		row: typed(func(o *flowcontrolv1.PriorityLevelConfiguration, m *objMeta) []interface{} {
			var ncs, queues, hand, qll interface{} = "<none>", "<none>", "<none>", "<none>"
			if l := o.Spec.Limited; l != nil {
				if l.NominalConcurrencyShares != nil {
					ncs = *l.NominalConcurrencyShares
				} else {
					ncs = int32(0)
				}
				if q := l.LimitResponse.Queuing; q != nil {
					queues, hand, qll = q.Queues, q.HandSize, q.QueueLengthLimit
				}
			}
			return []interface{}{m.name, string(o.Spec.Type), ncs, queues, hand, qll, sinceCell{m.created}}
		}),
	})

	register("autoscaling", "horizontalpodautoscalers", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Reference", "string", autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()["scaleTargetRef"]),
			col("Targets", "string", autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()["metrics"]),
			col("MinPods", "string", autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()["minReplicas"]),
			col("MaxPods", "string", autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()["maxReplicas"]),
			col("Replicas", "string", autoscalingv2.HorizontalPodAutoscalerStatus{}.SwaggerDoc()["currentReplicas"]),
			ageColumn},
		row: printHPA,
	})

	register("apiregistration.k8s.io", "apiservices", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Service", "string", "The reference to the service that hosts this API endpoint."),
			col("Available", "string", "Whether this service is available."),
			ageColumn},
		row: typed(func(o *apiService, m *objMeta) []interface{} {
			service := "Local"
			if o.Spec.Service != nil {
				service = o.Spec.Service.Namespace + "/" + o.Spec.Service.Name
			}
			status := string(metav1.ConditionUnknown)
			for _, c := range o.Status.Conditions {
				if c.Type != "Available" {
					continue
				}
				switch {
				case c.Status == string(metav1.ConditionTrue):
					status = c.Status
				case c.Reason != "":
					status = c.Status + " (" + c.Reason + ")"
				default:
					status = c.Status
				}
				break
			}
			return []interface{}{m.name, service, status, sinceCell{m.created}}
		}),
	})
}

// defaultPrinter is k8s.io/apiserver's default table convertor: NAME and
// CREATED AT (RFC 3339, UTC), for kinds without a printer (limitranges,
// roles, clusterroles, customresourcedefinitions, …).
var defaultPrinter = &kindPrinter{
	columns: defaultColumns,
	row: func(_ []byte, m *objMeta, _ *scratch) ([]interface{}, []metav1.TableRowCondition, error) {
		return []interface{}{m.name, m.created.UTC().Format(time.RFC3339)}, nil, nil
	},
}

func nameAge(_ []byte, m *objMeta, _ *scratch) ([]interface{}, []metav1.TableRowCondition, error) {
	return []interface{}{m.name, sinceCell{m.created}}, nil, nil
}

// walkTop calls f for each top-level member; f must consume the value.
func walkTop(data []byte, f func(key []byte, s *scanner)) error {
	s := newScanner(data)
	if !s.beginObject() {
		if s.Err() != nil {
			return s.Err()
		}
		return errNotObject
	}
	for key, ok := s.nextKey(); ok; key, ok = s.nextKey() {
		f(key, &s)
	}
	return s.Err()
}

// replicas applies the v1 default of 1 to an unset replica count.
func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

func layoutContainerCells(containers []corev1.Container) (string, string) {
	var names, images strings.Builder
	for i, c := range containers {
		if i > 0 {
			names.WriteByte(',')
			images.WriteByte(',')
		}
		names.WriteString(c.Name)
		images.WriteString(c.Image)
	}
	return names.String(), images.String()
}

func printBoolPtr(b *bool) string {
	if b == nil {
		return "<unset>"
	}
	if *b {
		return "True"
	}
	return "False"
}

const loadBalancerWidth = 16

// lbString is kube's loadBalancerStatusStringer for wide output (the server
// always prints wide): sorted unique IPs, else hostnames.
func lbString[T any](ingress []T, get func(T) (ip, host string)) string {
	result := sets.New[string]()
	for _, in := range ingress {
		ip, host := get(in)
		if ip != "" {
			result.Insert(ip)
		} else if host != "" {
			result.Insert(host)
		}
	}
	return strings.Join(sets.List(result), ",")
}

func printService(o *corev1.Service, m *objMeta) []interface{} {
	svcType := o.Spec.Type
	if svcType == "" {
		svcType = corev1.ServiceTypeClusterIP
	}
	internalIP := "<none>"
	if len(o.Spec.ClusterIPs) > 0 {
		internalIP = o.Spec.ClusterIPs[0]
	} else if o.Spec.ClusterIP != "" {
		internalIP = o.Spec.ClusterIP
	}
	var externalIP string
	switch svcType {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		externalIP = "<none>"
		if len(o.Spec.ExternalIPs) > 0 {
			externalIP = strings.Join(o.Spec.ExternalIPs, ",")
		}
	case corev1.ServiceTypeLoadBalancer:
		lbIPs := lbString(o.Status.LoadBalancer.Ingress, func(i corev1.LoadBalancerIngress) (string, string) { return i.IP, i.Hostname })
		switch {
		case len(o.Spec.ExternalIPs) > 0:
			var results []string
			if lbIPs != "" {
				results = append(results, strings.Split(lbIPs, ",")...)
			}
			results = append(results, o.Spec.ExternalIPs...)
			externalIP = strings.Join(results, ",")
		case lbIPs != "":
			externalIP = lbIPs
		default:
			externalIP = "<pending>"
		}
	case corev1.ServiceTypeExternalName:
		externalIP = o.Spec.ExternalName
	default:
		externalIP = "<unknown>"
	}
	pieces := make([]string, len(o.Spec.Ports))
	for i, p := range o.Spec.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		if p.NodePort > 0 {
			pieces[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, proto)
		} else {
			pieces[i] = fmt.Sprintf("%d/%s", p.Port, proto)
		}
	}
	ports := strings.Join(pieces, ",")
	if ports == "" {
		ports = "<none>"
	}
	return []interface{}{m.name, string(svcType), internalIP, externalIP, ports, sinceCell{m.created}, labels.FormatLabels(o.Spec.Selector)}
}

func formatEndpoints(ep *corev1.Endpoints) string {
	if len(ep.Subsets) == 0 {
		return "<none>"
	}
	list := []string{}
	const max = 3
	more := false
	count := 0
	for i := range ep.Subsets {
		ss := &ep.Subsets[i]
		if len(ss.Ports) == 0 {
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				if len(list) == max {
					more = true
					break
				}
				list = append(list, a.IP)
			}
			continue
		}
		for _, port := range ss.Ports {
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				if len(list) == max {
					more = true
					break
				}
				list = append(list, net.JoinHostPort(a.IP, strconv.Itoa(int(port.Port))))
			}
		}
	}
	ret := strings.Join(list, ",")
	if more {
		return fmt.Sprintf("%s + %d more...", ret, count-max)
	}
	return ret
}

func listWithMoreString(list []string, more bool, count, max int) string {
	ret := strings.Join(list, ",")
	if more {
		return fmt.Sprintf("%s + %d more...", ret, count-max)
	}
	if ret == "" {
		ret = "<unset>"
	}
	return ret
}

func formatDiscoveryPorts(ports []discoveryv1.EndpointPort) string {
	list := []string{}
	const max = 3
	more := false
	count := 0
	for _, port := range ports {
		if len(list) < max {
			portNum := "*"
			if port.Port != nil {
				portNum = strconv.Itoa(int(*port.Port))
			} else if port.Name != nil {
				portNum = *port.Name
			}
			list = append(list, portNum)
		} else if len(list) == max {
			more = true
		}
		count++
	}
	return listWithMoreString(list, more, count, max)
}

func formatDiscoveryEndpoints(endpoints []discoveryv1.Endpoint) string {
	list := []string{}
	const max = 3
	more := false
	count := 0
	for _, ep := range endpoints {
		for _, addr := range ep.Addresses {
			if len(list) < max {
				list = append(list, addr)
			} else if len(list) == max {
				more = true
			}
			count++
		}
	}
	return listWithMoreString(list, more, count, max)
}

func formatHosts(rules []networkingv1.IngressRule) string {
	list := []string{}
	const max = 3
	more := false
	for _, rule := range rules {
		if len(list) == max {
			more = true
		}
		if !more && rule.Host != "" {
			list = append(list, rule.Host)
		}
	}
	if len(list) == 0 {
		return "*"
	}
	ret := strings.Join(list, ",")
	if more {
		return fmt.Sprintf("%s + %d more...", ret, len(rules)-max)
	}
	return ret
}

func formatIngressPorts(tls []networkingv1.IngressTLS) string {
	if len(tls) != 0 {
		return "80, 443"
	}
	return "80"
}

const (
	labelNodeRolePrefix = "node-role.kubernetes.io/"
	nodeLabelRole       = "kubernetes.io/role"
)

func printNode(o *corev1.Node, m *objMeta) []interface{} {
	var status []string
	for i := len(o.Status.Conditions) - 1; i >= 0; i-- {
		// kube builds a map by type, so the last Ready condition wins.
		c := o.Status.Conditions[i]
		if c.Type == corev1.NodeReady {
			if c.Status == corev1.ConditionTrue {
				status = append(status, string(c.Type))
			} else {
				status = append(status, "Not"+string(c.Type))
			}
			break
		}
	}
	if len(status) == 0 {
		status = append(status, "Unknown")
	}
	if o.Spec.Unschedulable {
		status = append(status, "SchedulingDisabled")
	}
	roles := sets.New[string]()
	for k, v := range o.Labels {
		switch {
		case strings.HasPrefix(k, labelNodeRolePrefix):
			if role := strings.TrimPrefix(k, labelNodeRolePrefix); role != "" {
				roles.Insert(role)
			}
		case k == nodeLabelRole && v != "":
			roles.Insert(v)
		}
	}
	rolesStr := strings.Join(sets.List(roles), ",")
	if rolesStr == "" {
		rolesStr = "<none>"
	}
	unknown := func(s string) string {
		if s == "" {
			return "<unknown>"
		}
		return s
	}
	addr := func(t corev1.NodeAddressType) string {
		for _, a := range o.Status.Addresses {
			if a.Type == t {
				return a.Address
			}
		}
		return "<none>"
	}
	info := o.Status.NodeInfo
	return []interface{}{m.name, strings.Join(status, ","), rolesStr, sinceCell{m.created}, info.KubeletVersion,
		addr(corev1.NodeInternalIP), addr(corev1.NodeExternalIP), unknown(info.OSImage), unknown(info.KernelVersion), unknown(info.ContainerRuntimeVersion)}
}

func printEvent(o *corev1.Event, m *objMeta) []interface{} {
	var first interface{} = sinceCell{o.FirstTimestamp.Time}
	if o.FirstTimestamp.IsZero() {
		first = sinceCell{o.EventTime.Time}
	}
	last := interface{}(sinceCell{o.LastTimestamp.Time})
	if o.LastTimestamp.IsZero() {
		last = first
	}
	count := o.Count
	if o.Series != nil {
		last = sinceCell{o.Series.LastObservedTime.Time}
		count = o.Series.Count
	} else if count == 0 {
		count = 1
	}
	target := strings.ToLower(o.InvolvedObject.Kind)
	if o.InvolvedObject.Name != "" {
		target += "/" + o.InvolvedObject.Name
	}
	component := o.Source.Component
	if component == "" {
		component = o.ReportingController
	}
	host := o.Source.Host
	if host == "" {
		host = o.ReportingInstance
	}
	source := component
	if host != "" {
		source = component + ", " + host
	}
	return []interface{}{last, o.Type, o.Reason, target, o.InvolvedObject.FieldPath, source,
		strings.TrimSpace(o.Message), first, int64(count), m.name}
}

// eventsV1Event is an events.k8s.io/v1 Event; kube-apiserver prints it via
// its internal (core) form.
type eventsV1Event struct {
	metav1.ObjectMeta        `json:"metadata"`
	EventTime                metav1.MicroTime       `json:"eventTime"`
	Series                   *corev1.EventSeries    `json:"series,omitempty"`
	ReportingController      string                 `json:"reportingController,omitempty"`
	ReportingInstance        string                 `json:"reportingInstance,omitempty"`
	Action                   string                 `json:"action,omitempty"`
	Reason                   string                 `json:"reason,omitempty"`
	Regarding                corev1.ObjectReference `json:"regarding,omitempty"`
	Note                     string                 `json:"note,omitempty"`
	Type                     string                 `json:"type,omitempty"`
	DeprecatedSource         corev1.EventSource     `json:"deprecatedSource,omitempty"`
	DeprecatedFirstTimestamp metav1.Time            `json:"deprecatedFirstTimestamp,omitempty"`
	DeprecatedLastTimestamp  metav1.Time            `json:"deprecatedLastTimestamp,omitempty"`
	DeprecatedCount          int32                  `json:"deprecatedCount,omitempty"`
}

func (e *eventsV1Event) toCore() *corev1.Event {
	return &corev1.Event{
		ObjectMeta: e.ObjectMeta, InvolvedObject: e.Regarding, Reason: e.Reason, Message: e.Note,
		Source: e.DeprecatedSource, FirstTimestamp: e.DeprecatedFirstTimestamp, LastTimestamp: e.DeprecatedLastTimestamp,
		Count: e.DeprecatedCount, Type: e.Type, EventTime: e.EventTime, Series: e.Series, Action: e.Action,
		ReportingController: e.ReportingController, ReportingInstance: e.ReportingInstance,
	}
}

func accessModesString(modes []corev1.PersistentVolumeAccessMode) string {
	has := func(m corev1.PersistentVolumeAccessMode) bool {
		for _, x := range modes {
			if x == m {
				return true
			}
		}
		return false
	}
	var out []string
	if has(corev1.ReadWriteOnce) {
		out = append(out, "RWO")
	}
	if has(corev1.ReadOnlyMany) {
		out = append(out, "ROX")
	}
	if has(corev1.ReadWriteMany) {
		out = append(out, "RWX")
	}
	if has(corev1.ReadWriteOncePod) {
		out = append(out, "RWOP")
	}
	return strings.Join(out, ",")
}

const betaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class"

func printPersistentVolume(o *corev1.PersistentVolume, m *objMeta) []interface{} {
	claim := ""
	if o.Spec.ClaimRef != nil {
		claim = o.Spec.ClaimRef.Namespace + "/" + o.Spec.ClaimRef.Name
	}
	size := o.Spec.Capacity[corev1.ResourceStorage]
	phase := string(o.Status.Phase)
	if m.deleting {
		phase = "Terminating"
	}
	volumeMode := "<unset>"
	if o.Spec.VolumeMode != nil {
		volumeMode = string(*o.Spec.VolumeMode)
	}
	vac := "<unset>"
	if o.Spec.VolumeAttributesClassName != nil {
		vac = *o.Spec.VolumeAttributesClassName
	}
	class := o.Spec.StorageClassName
	if c, ok := o.Annotations[betaStorageClassAnnotation]; ok {
		class = c
	}
	return []interface{}{m.name, size.String(), accessModesString(o.Spec.AccessModes), string(o.Spec.PersistentVolumeReclaimPolicy),
		phase, claim, class, vac, o.Status.Reason, sinceCell{m.created}, volumeMode}
}

func printPersistentVolumeClaim(o *corev1.PersistentVolumeClaim, m *objMeta) []interface{} {
	phase := string(o.Status.Phase)
	if m.deleting {
		phase = "Terminating"
	}
	vac := "<unset>"
	if o.Spec.VolumeAttributesClassName != nil {
		vac = *o.Spec.VolumeAttributesClassName
	}
	capacity, accessModes := "", ""
	if o.Spec.VolumeName != "" {
		accessModes = accessModesString(o.Status.AccessModes)
		q := o.Status.Capacity[corev1.ResourceStorage]
		capacity = q.String()
	}
	volumeMode := "<unset>"
	if o.Spec.VolumeMode != nil {
		volumeMode = string(*o.Spec.VolumeMode)
	}
	class := ""
	if c, ok := o.Annotations[betaStorageClassAnnotation]; ok {
		class = c
	} else if o.Spec.StorageClassName != nil {
		class = *o.Spec.StorageClassName
	}
	return []interface{}{m.name, phase, o.Spec.VolumeName, capacity, accessModes, class, vac, sinceCell{m.created}, volumeMode}
}

func printResourceQuota(o *corev1.ResourceQuota, m *objMeta) []interface{} {
	names := make([]string, 0, len(o.Status.Hard))
	for r := range o.Status.Hard {
		names = append(names, string(r))
	}
	sort.Strings(names)
	var req, lim strings.Builder
	for _, r := range names {
		w := &req
		if pieces := strings.Split(r, "."); len(pieces) > 1 && pieces[0] == "limits" {
			w = &lim
		}
		used := o.Status.Used[corev1.ResourceName(r)]
		hard := o.Status.Hard[corev1.ResourceName(r)]
		fmt.Fprintf(w, "%s: %s/%s, ", r, used.String(), hard.String())
	}
	return []interface{}{m.name, strings.TrimSuffix(req.String(), ", "), strings.TrimSuffix(lim.String(), ", "), sinceCell{m.created}}
}

func hasJobCondition(conds []batchv1.JobCondition, t batchv1.JobConditionType) bool {
	for _, c := range conds {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func printJob(o *batchv1.Job, m *objMeta) []interface{} {
	var completions string
	if o.Spec.Completions != nil {
		completions = fmt.Sprintf("%d/%d", o.Status.Succeeded, *o.Spec.Completions)
	} else {
		parallelism := int32(0)
		if o.Spec.Parallelism != nil {
			parallelism = *o.Spec.Parallelism
		}
		if parallelism > 1 {
			completions = fmt.Sprintf("%d/1 of %d", o.Status.Succeeded, parallelism)
		} else {
			completions = fmt.Sprintf("%d/1", o.Status.Succeeded)
		}
	}
	var jobDuration interface{} = ""
	switch {
	case o.Status.StartTime == nil:
	case o.Status.CompletionTime == nil:
		jobDuration = durationCell{o.Status.StartTime.Time}
	default:
		jobDuration = duration.HumanDuration(o.Status.CompletionTime.Sub(o.Status.StartTime.Time))
	}
	var status string
	conds := o.Status.Conditions
	switch {
	case hasJobCondition(conds, batchv1.JobComplete):
		status = "Complete"
	case hasJobCondition(conds, batchv1.JobFailed):
		status = "Failed"
	case m.deleting:
		status = "Terminating"
	case hasJobCondition(conds, batchv1.JobSuspended):
		status = "Suspended"
	case hasJobCondition(conds, batchv1.JobFailureTarget):
		status = "FailureTarget"
	case hasJobCondition(conds, batchv1.JobSuccessCriteriaMet):
		status = "SuccessCriteriaMet"
	default:
		status = "Running"
	}
	names, images := layoutContainerCells(o.Spec.Template.Spec.Containers)
	return []interface{}{m.name, status, completions, jobDuration, sinceCell{m.created}, names, images, metav1.FormatLabelSelector(o.Spec.Selector)}
}

func subjectsStrings(subjects []rbacv1.Subject) (users, groups, sas []string) {
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			sas = append(sas, s.Namespace+"/"+s.Name)
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		}
	}
	return users, groups, sas
}

func isDefaultStorageClass(annotations map[string]string) bool {
	return annotations["storageclass.kubernetes.io/is-default-class"] == "true" ||
		annotations["storageclass.beta.kubernetes.io/is-default-class"] == "true"
}

func printCSR(o *certificatesv1.CertificateSigningRequest, m *objMeta) []interface{} {
	var approved, denied, failed bool
	for _, c := range o.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied:
			denied = true
		case certificatesv1.CertificateFailed:
			failed = true
		}
	}
	status := "Pending"
	if denied {
		status = "Denied"
	} else if approved {
		status = "Approved"
	}
	if failed {
		status += ",Failed"
	}
	if len(o.Status.Certificate) > 0 {
		status += ",Issued"
	}
	signer := "<none>"
	if o.Spec.SignerName != "" {
		signer = o.Spec.SignerName
	}
	requested := "<none>"
	if o.Spec.ExpirationSeconds != nil {
		requested = duration.HumanDuration(time.Duration(*o.Spec.ExpirationSeconds) * time.Second)
	}
	return []interface{}{m.name, sinceCell{m.created}, signer, o.Spec.Username, requested, status}
}

// apiService is the part of apiregistration.k8s.io/v1 APIService printed.
type apiService struct {
	Spec struct {
		Service *struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
		} `json:"service"`
	} `json:"spec"`
	Status struct {
		Conditions []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Reason string `json:"reason"`
		} `json:"conditions"`
	} `json:"status"`
}

func printHPA(data []byte, m *objMeta, _ *scratch) ([]interface{}, []metav1.TableRowCondition, error) {
	var o autoscalingv2.HorizontalPodAutoscaler
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, nil, err
	}
	// An autoscaling/v1 object carries its CPU target in v1 fields.
	var v1 struct {
		Spec struct {
			TargetCPU *int32 `json:"targetCPUUtilizationPercentage"`
		} `json:"spec"`
		Status struct {
			CurrentCPU *int32 `json:"currentCPUUtilizationPercentage"`
		} `json:"status"`
	}
	_ = json.Unmarshal(data, &v1)
	if len(o.Spec.Metrics) == 0 && v1.Spec.TargetCPU != nil {
		o.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: v1.Spec.TargetCPU}}}}
		if v1.Status.CurrentCPU != nil {
			o.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
				Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: v1.Status.CurrentCPU}}}}
		}
	}
	minPods := "<unset>"
	if o.Spec.MinReplicas != nil {
		minPods = strconv.Itoa(int(*o.Spec.MinReplicas))
	}
	ref := o.Spec.ScaleTargetRef.Kind + "/" + o.Spec.ScaleTargetRef.Name
	return []interface{}{m.name, ref, formatHPAMetrics(o.Spec.Metrics, o.Status.CurrentMetrics), minPods,
		int64(o.Spec.MaxReplicas), int64(o.Status.CurrentReplicas), sinceCell{m.created}}, nil, nil
}

func formatHPAMetrics(specs []autoscalingv2.MetricSpec, statuses []autoscalingv2.MetricStatus) string {
	if len(specs) == 0 {
		return "<none>"
	}
	qs := func(q interface{ String() string }) string { return q.String() }
	list := []string{}
	const max = 2
	for i, spec := range specs {
		current := "<unknown>"
		switch spec.Type {
		case autoscalingv2.ExternalMetricSourceType:
			if spec.External.Target.AverageValue != nil {
				if len(statuses) > i && statuses[i].External != nil && statuses[i].External.Current.AverageValue != nil {
					current = qs(statuses[i].External.Current.AverageValue)
				}
				list = append(list, fmt.Sprintf("%s/%s (avg)", current, qs(spec.External.Target.AverageValue)))
			} else {
				if len(statuses) > i && statuses[i].External != nil && statuses[i].External.Current.Value != nil {
					current = qs(statuses[i].External.Current.Value)
				}
				list = append(list, fmt.Sprintf("%s/%s", current, qs(spec.External.Target.Value)))
			}
		case autoscalingv2.PodsMetricSourceType:
			if len(statuses) > i && statuses[i].Pods != nil && statuses[i].Pods.Current.AverageValue != nil {
				current = qs(statuses[i].Pods.Current.AverageValue)
			}
			list = append(list, fmt.Sprintf("%s/%s", current, qs(spec.Pods.Target.AverageValue)))
		case autoscalingv2.ObjectMetricSourceType:
			if spec.Object.Target.AverageValue != nil {
				if len(statuses) > i && statuses[i].Object != nil && statuses[i].Object.Current.AverageValue != nil {
					current = qs(statuses[i].Object.Current.AverageValue)
				}
				list = append(list, fmt.Sprintf("%s/%s (avg)", current, qs(spec.Object.Target.AverageValue)))
			} else {
				if len(statuses) > i && statuses[i].Object != nil && statuses[i].Object.Current.Value != nil {
					current = qs(statuses[i].Object.Current.Value)
				}
				list = append(list, fmt.Sprintf("%s/%s", current, qs(spec.Object.Target.Value)))
			}
		case autoscalingv2.ResourceMetricSourceType, autoscalingv2.ContainerResourceMetricSourceType:
			name, target := corev1.ResourceName(""), autoscalingv2.MetricTarget{}
			var cur *autoscalingv2.MetricValueStatus
			if spec.Type == autoscalingv2.ResourceMetricSourceType {
				name, target = spec.Resource.Name, spec.Resource.Target
				if len(statuses) > i && statuses[i].Resource != nil {
					cur = &statuses[i].Resource.Current
				}
			} else {
				name, target = spec.ContainerResource.Name, spec.ContainerResource.Target
				if len(statuses) > i && statuses[i].ContainerResource != nil {
					cur = &statuses[i].ContainerResource.Current
				}
			}
			if target.AverageValue != nil {
				if cur != nil && cur.AverageValue != nil {
					current = qs(cur.AverageValue)
				}
				list = append(list, fmt.Sprintf("%s: %s/%s", name, current, qs(target.AverageValue)))
			} else {
				if cur != nil && cur.AverageUtilization != nil {
					current = fmt.Sprintf("%d%%", *cur.AverageUtilization)
				}
				t := "<auto>"
				if target.AverageUtilization != nil {
					t = fmt.Sprintf("%d%%", *target.AverageUtilization)
				}
				list = append(list, fmt.Sprintf("%s: %s/%s", name, current, t))
			}
		default:
			list = append(list, "<unknown type>")
		}
	}
	if len(list) > max {
		ret := strings.Join(list[:max], ", ")
		return fmt.Sprintf("%s + %d more...", ret, len(list)-max)
	}
	return strings.Join(list, ", ")
}
