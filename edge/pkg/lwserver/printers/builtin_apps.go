package printers

import (
	"encoding/json"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	appsv1beta1 "k8s.io/api/apps/v1beta1"
	batchv1 "k8s.io/api/batch/v1"
	batchv1beta1 "k8s.io/api/batch/v1beta1"
	corev1 "k8s.io/api/core/v1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// addAppsPrinters registers kube-apiserver's printers for deployments, replica sets, daemon sets, stateful sets.
func addAppsPrinters(p printerSet) {
	p.add("apps", "deployments", &kindPrinter{
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

	p.add("apps", "replicasets", &kindPrinter{
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

	p.add("apps", "daemonsets", &kindPrinter{
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

	p.add("apps", "statefulsets", &kindPrinter{
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
}

// addBatchPrinters registers kube-apiserver's printers for controller revisions, jobs, cron jobs.
func addBatchPrinters(p printerSet) {
	p.add("apps", "controllerrevisions", &kindPrinter{
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

	p.add("batch", "jobs", &kindPrinter{
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

	p.add("batch", "cronjobs", &kindPrinter{
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
}
