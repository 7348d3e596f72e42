package printers

import (
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
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
)

// addNetworkingPrinters registers kube-apiserver's printers for leases, ingresses, ingress classes, network policies, endpoint slices.
func addNetworkingPrinters(p printerSet) {
	p.add("coordination.k8s.io", "leases", &kindPrinter{
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

	p.add("networking.k8s.io", "ingresses", &kindPrinter{
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

	p.add("networking.k8s.io", "ingressclasses", &kindPrinter{
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

	p.add("networking.k8s.io", "networkpolicies", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Pod-Selector", "string", extensionsv1beta1.NetworkPolicySpec{}.SwaggerDoc()["podSelector"]),
			ageColumn},
		row: typed(func(o *networkingv1.NetworkPolicy, m *objMeta) []interface{} {
			return []interface{}{m.name, metav1.FormatLabelSelector(&o.Spec.PodSelector), sinceCell{m.created}}
		}),
	})

	p.add("discovery.k8s.io", "endpointslices", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("AddressType", "string", discoveryv1beta1.EndpointSlice{}.SwaggerDoc()["addressType"]),
			col("Ports", "string", discoveryv1beta1.EndpointSlice{}.SwaggerDoc()["ports"]),
			col("Endpoints", "string", discoveryv1beta1.EndpointSlice{}.SwaggerDoc()["endpoints"]),
			ageColumn},
		row: typed(func(o *discoveryv1.EndpointSlice, m *objMeta) []interface{} {
			return []interface{}{m.name, string(o.AddressType), formatDiscoveryPorts(o.Ports), formatDiscoveryEndpoints(o.Endpoints), sinceCell{m.created}}
		}),
	})
}

// addPolicyPrinters registers kube-apiserver's printers for role bindings, pod disruption budgets, priority and runtime classes.
func addPolicyPrinters(p printerSet) {
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
	p.add("rbac.authorization.k8s.io", "rolebindings", &kindPrinter{
		columns: roleBindingColumns("roleBinding"),
		row: typed(func(o *rbacv1.RoleBinding, m *objMeta) []interface{} {
			return bindingRow(o.RoleRef, o.Subjects, m)
		}),
	})
	p.add("rbac.authorization.k8s.io", "clusterrolebindings", &kindPrinter{
		columns: roleBindingColumns("clusterRoleBinding"),
		row: typed(func(o *rbacv1.ClusterRoleBinding, m *objMeta) []interface{} {
			return bindingRow(o.RoleRef, o.Subjects, m)
		}),
	})

	p.add("policy", "poddisruptionbudgets", &kindPrinter{
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

	p.add("scheduling.k8s.io", "priorityclasses", &kindPrinter{
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

	p.add("node.k8s.io", "runtimeclasses", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Handler", "string", metaDoc["handler"]),
			ageColumn},
		row: typed(func(o *nodev1.RuntimeClass, m *objMeta) []interface{} {
			return []interface{}{m.name, o.Handler, sinceCell{m.created}}
		}),
	})
}

// addStoragePrinters registers kube-apiserver's printers for storage classes, volume attachments, CSI nodes.
func addStoragePrinters(p printerSet) {
	p.add("storage.k8s.io", "storageclasses", &kindPrinter{
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

	p.add("storage.k8s.io", "volumeattachments", &kindPrinter{
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

	p.add("storage.k8s.io", "csinodes", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node"),
			ageColumn},
		row: typed(func(o *storagev1.CSINode, m *objMeta) []interface{} {
			return []interface{}{m.name, int64(len(o.Spec.Drivers)), sinceCell{m.created}}
		}),
	})
}

// addCSIPrinters registers kube-apiserver's printers for CSI drivers and storage capacities.
func addCSIPrinters(p printerSet) {
	p.add("storage.k8s.io", "csidrivers", &kindPrinter{
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

	p.add("storage.k8s.io", "csistoragecapacities", &kindPrinter{
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
}

// addAdmissionPrinters registers kube-apiserver's printers for admission webhooks and policies, certificate signing requests.
func addAdmissionPrinters(p printerSet) {
	webhookColumns := []metav1.TableColumnDefinition{nameColumn,
		col("Webhooks", "integer", "Webhooks indicates the number of webhooks registered in this configuration"),
		ageColumn}
	p.add("admissionregistration.k8s.io", "mutatingwebhookconfigurations", &kindPrinter{columns: webhookColumns,
		row: typed(func(o *admissionv1.MutatingWebhookConfiguration, m *objMeta) []interface{} {
			return []interface{}{m.name, int64(len(o.Webhooks)), sinceCell{m.created}}
		})})
	p.add("admissionregistration.k8s.io", "validatingwebhookconfigurations", &kindPrinter{columns: webhookColumns,
		row: typed(func(o *admissionv1.ValidatingWebhookConfiguration, m *objMeta) []interface{} {
			return []interface{}{m.name, int64(len(o.Webhooks)), sinceCell{m.created}}
		})})
	p.add("admissionregistration.k8s.io", "validatingadmissionpolicies", &kindPrinter{
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
	p.add("admissionregistration.k8s.io", "validatingadmissionpolicybindings", &kindPrinter{
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

	p.add("certificates.k8s.io", "certificatesigningrequests", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			ageColumn,
			col("SignerName", "string", certificatesv1beta1.CertificateSigningRequestSpec{}.SwaggerDoc()["signerName"]),
			col("Requestor", "string", certificatesv1beta1.CertificateSigningRequestSpec{}.SwaggerDoc()["request"]),
			col("RequestedDuration", "string", certificatesv1beta1.CertificateSigningRequestSpec{}.SwaggerDoc()["expirationSeconds"]),
			col("Condition", "string", certificatesv1beta1.CertificateSigningRequestStatus{}.SwaggerDoc()["conditions"])},
		row: typed(printCSR),
	})
}

// addFlowControlPrinters registers kube-apiserver's printers for flow schemas, priority levels, horizontal pod autoscalers.
func addFlowControlPrinters(p printerSet) {
	p.add("flowcontrol.apiserver.k8s.io", "flowschemas", &kindPrinter{
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

	p.add("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations", &kindPrinter{
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

	p.add("autoscaling", "horizontalpodautoscalers", &kindPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn,
			col("Reference", "string", autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()["scaleTargetRef"]),
			col("Targets", "string", autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()["metrics"]),
			col("MinPods", "string", autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()["minReplicas"]),
			col("MaxPods", "string", autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()["maxReplicas"]),
			col("Replicas", "string", autoscalingv2.HorizontalPodAutoscalerStatus{}.SwaggerDoc()["currentReplicas"]),
			ageColumn},
		row: printHPA,
	})
}

// addAggregationPrinters registers kube-apiserver's printers for API services.
func addAggregationPrinters(p printerSet) {
	p.add("apiregistration.k8s.io", "apiservices", &kindPrinter{
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
