package printers

import (
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
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

// printerSet maps group/resource to the printer for it.
type printerSet map[schema.GroupResource]*kindPrinter

func (p printerSet) add(group, resource string, kp *kindPrinter) {
	p[schema.GroupResource{Group: group, Resource: resource}] = kp
}

// builtinPrinters returns kube-apiserver's printer for each built-in
// group/resource that has one (pkg/printers/internalversion).
func builtinPrinters() printerSet {
	p := printerSet{}
	addCorePrinters(p)
	addCoreConfigPrinters(p)
	addCoreStoragePrinters(p)
	addAppsPrinters(p)
	addBatchPrinters(p)
	addNetworkingPrinters(p)
	addPolicyPrinters(p)
	addStoragePrinters(p)
	addCSIPrinters(p)
	addAdmissionPrinters(p)
	addFlowControlPrinters(p)
	addAggregationPrinters(p)
	return p
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
