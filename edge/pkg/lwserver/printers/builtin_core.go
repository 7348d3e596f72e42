package printers

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// addCorePrinters registers kube-apiserver's printers for pods, pod templates, replication controllers, services, endpoints, nodes.
func addCorePrinters(p printerSet) {
	p.add("", "pods", &kindPrinter{columns: podColumns, walk: walkPod})

	p.add("", "podtemplates", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Containers", "string", containersDesc),
			col("Images", "string", imagesDesc),
			col("Pod Labels", "string", "The labels for the pod template.")},
		row: typed(func(o *corev1.PodTemplate, m *objMeta) []interface{} {
			names, images := layoutContainerCells(o.Template.Spec.Containers)
			return []interface{}{m.name, names, images, labels.FormatLabels(o.Template.Labels)}
		}),
	})

	p.add("", "replicationcontrollers", &kindPrinter{
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

	p.add("", "services", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Type", "string", corev1.ServiceSpec{}.SwaggerDoc()["type"]),
			col("Cluster-IP", "string", corev1.ServiceSpec{}.SwaggerDoc()["clusterIP"]),
			col("External-IP", "string", corev1.ServiceSpec{}.SwaggerDoc()["externalIPs"]),
			col("Port(s)", "string", corev1.ServiceSpec{}.SwaggerDoc()["ports"]),
			ageColumn,
			wide("Selector", "string", corev1.ServiceSpec{}.SwaggerDoc()["selector"])},
		row: typed(printService),
	})

	p.add("", "endpoints", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Endpoints", "string", corev1.Endpoints{}.SwaggerDoc()["subsets"]),
			ageColumn},
		row: typed(func(o *corev1.Endpoints, m *objMeta) []interface{} {
			return []interface{}{m.name, formatEndpoints(o), sinceCell{m.created}}
		}),
	})

	p.add("", "nodes", &kindPrinter{
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
}

// addCoreConfigPrinters registers kube-apiserver's printers for events (core and events.k8s.io), namespaces, secrets, configmaps, service accounts.
func addCoreConfigPrinters(p printerSet) {
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
	p.add("", "events", &kindPrinter{columns: eventColumns, row: typed(printEvent)})
	p.add("events.k8s.io", "events", &kindPrinter{columns: eventColumns, row: typed(func(o *eventsV1Event, m *objMeta) []interface{} {
		return printEvent(o.toCore(), m)
	})})

	p.add("", "namespaces", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn, col("Status", "string", "The status of the namespace"), ageColumn},
		row: typed(func(o *struct {
			Status corev1.NamespaceStatus `json:"status"`
		}, m *objMeta) []interface{} {
			return []interface{}{m.name, string(o.Status.Phase), sinceCell{m.created}}
		}),
	})

	p.add("", "secrets", &kindPrinter{
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

	p.add("", "configmaps", &kindPrinter{
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

	p.add("", "serviceaccounts", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn, ageColumn},
		row:     nameAge,
	})
}

// addCoreStoragePrinters registers kube-apiserver's printers for persistent volumes and claims, component statuses, resource quotas.
func addCoreStoragePrinters(p printerSet) {
	p.add("", "persistentvolumes", &kindPrinter{
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

	p.add("", "persistentvolumeclaims", &kindPrinter{
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

	p.add("", "componentstatuses", &kindPrinter{
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

	p.add("", "resourcequotas", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
			col("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
			ageColumn},
		row: typed(printResourceQuota),
	})
}
