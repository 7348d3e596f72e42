package printers

import (
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var podColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "Ready", Type: "string", Description: "The aggregate readiness state of this pod for accepting traffic."},
	{Name: "Status", Type: "string", Description: "The aggregate status of the containers in this pod."},
	{Name: "Restarts", Type: "string", Description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."},
	ageColumn,
	{Name: "IP", Type: "string", Priority: 1, Description: corev1.PodStatus{}.SwaggerDoc()["podIP"]},
	{Name: "Node", Type: "string", Priority: 1, Description: corev1.PodSpec{}.SwaggerDoc()["nodeName"]},
	{Name: "Nominated Node", Type: "string", Priority: 1, Description: corev1.PodStatus{}.SwaggerDoc()["nominatedNodeName"]},
	{Name: "Readiness Gates", Type: "string", Priority: 1, Description: corev1.PodSpec{}.SwaggerDoc()["readinessGates"]},
}

var (
	podSuccessConditions = []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: string(corev1.PodSucceeded), Message: "The pod has completed successfully."}}
	podFailedConditions  = []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: string(corev1.PodFailed), Message: "The pod failed."}}
)

// The pod fields the columns read; byte slices alias the object's bytes.
type podScratch struct {
	phase, reason, nodeName, nominated, podIP, firstPodIP []byte
	containers                                            int
	initContainers                                        []podInitContainer
	readinessGates                                        [][]byte
	conditions                                            []podCondition
	initStatuses, statuses                                []podContainerStatus
}

type podInitContainer struct {
	name        []byte
	restartable bool
}

type podCondition struct{ typ, status, reason []byte }

type podContainerStatus struct {
	name          []byte
	ready         bool
	started       bool // started != nil && *started
	restarts      int64
	waiting       bool
	waitingReason []byte
	running       bool
	terminated    bool
	termReason    []byte
	exitCode      int64
	signal        int64
	lastTermAt    time.Time
	hasLastTerm   bool
}

func (ps *podScratch) reset() {
	*ps = podScratch{
		initContainers: ps.initContainers[:0],
		readinessGates: ps.readinessGates[:0],
		conditions:     ps.conditions[:0],
		initStatuses:   ps.initStatuses[:0],
		statuses:       ps.statuses[:0],
	}
}

func walkPod(data []byte, m *objMeta, sc *scratch) ([]interface{}, []metav1.TableRowCondition, error) {
	ps := &sc.pod
	ps.reset()
	s := newScanner(data)
	if !s.beginObject() {
		if s.Err() != nil {
			return nil, nil, s.Err()
		}
		return nil, nil, errNotObject
	}
	for key, ok := s.nextKey(); ok; key, ok = s.nextKey() {
		switch string(key) {
		case "metadata":
			parseMeta(&s, m)
		case "spec":
			ps.parseSpec(&s)
		case "status":
			ps.parseStatus(&s)
		default:
			s.skip()
		}
	}
	if s.Err() != nil {
		return nil, nil, s.Err()
	}
	cells, conds := ps.row(m)
	return cells, conds, nil
}

func (ps *podScratch) parseSpec(s *scanner) {
	if !s.beginObject() {
		return
	}
	for key, ok := s.nextKey(); ok; key, ok = s.nextKey() {
		switch string(key) {
		case "containers":
			ps.containers = s.countElems()
		case "initContainers":
			if s.beginArray() {
				for s.nextElem() {
					var ic podInitContainer
					if s.beginObject() {
						for k, ok := s.nextKey(); ok; k, ok = s.nextKey() {
							switch string(k) {
							case "name":
								ic.name = s.strBytes()
							case "restartPolicy":
								ic.restartable = string(s.strBytes()) == string(corev1.ContainerRestartPolicyAlways)
							default:
								s.skip()
							}
						}
					}
					ps.initContainers = append(ps.initContainers, ic)
				}
			}
		case "nodeName":
			ps.nodeName = s.strBytes()
		case "readinessGates":
			if s.beginArray() {
				for s.nextElem() {
					var ct []byte
					if s.beginObject() {
						for k, ok := s.nextKey(); ok; k, ok = s.nextKey() {
							if string(k) == "conditionType" {
								ct = s.strBytes()
							} else {
								s.skip()
							}
						}
					}
					ps.readinessGates = append(ps.readinessGates, ct)
				}
			}
		default:
			s.skip()
		}
	}
}

func (ps *podScratch) parseStatus(s *scanner) {
	if !s.beginObject() {
		return
	}
	for key, ok := s.nextKey(); ok; key, ok = s.nextKey() {
		switch string(key) {
		case "phase":
			ps.phase = s.strBytes()
		case "reason":
			ps.reason = s.strBytes()
		case "nominatedNodeName":
			ps.nominated = s.strBytes()
		case "podIP":
			ps.podIP = s.strBytes()
		case "podIPs":
			if s.beginArray() {
				for s.nextElem() {
					if s.beginObject() {
						for k, ok := s.nextKey(); ok; k, ok = s.nextKey() {
							if string(k) == "ip" && ps.firstPodIP == nil {
								ps.firstPodIP = s.strBytes()
							} else {
								s.skip()
							}
						}
					}
				}
			}
		case "conditions":
			if s.beginArray() {
				for s.nextElem() {
					var c podCondition
					if s.beginObject() {
						for k, ok := s.nextKey(); ok; k, ok = s.nextKey() {
							switch string(k) {
							case "type":
								c.typ = s.strBytes()
							case "status":
								c.status = s.strBytes()
							case "reason":
								c.reason = s.strBytes()
							default:
								s.skip()
							}
						}
					}
					ps.conditions = append(ps.conditions, c)
				}
			}
		case "initContainerStatuses":
			ps.initStatuses = parseContainerStatuses(s, ps.initStatuses)
		case "containerStatuses":
			ps.statuses = parseContainerStatuses(s, ps.statuses)
		default:
			s.skip()
		}
	}
}

func parseContainerStatuses(s *scanner, out []podContainerStatus) []podContainerStatus {
	if !s.beginArray() {
		return out
	}
	for s.nextElem() {
		var cs podContainerStatus
		if s.beginObject() {
			for k, ok := s.nextKey(); ok; k, ok = s.nextKey() {
				switch string(k) {
				case "name":
					cs.name = s.strBytes()
				case "ready":
					cs.ready = s.boolean()
				case "started":
					cs.started = s.boolean()
				case "restartCount":
					cs.restarts = s.int()
				case "state":
					parseContainerState(s, &cs)
				case "lastState":
					if s.beginObject() {
						for k2, ok := s.nextKey(); ok; k2, ok = s.nextKey() {
							if string(k2) != "terminated" || s.isNull() {
								s.skip()
								continue
							}
							cs.hasLastTerm = true
							if s.beginObject() {
								for k3, ok := s.nextKey(); ok; k3, ok = s.nextKey() {
									if string(k3) == "finishedAt" {
										cs.lastTermAt = s.time()
									} else {
										s.skip()
									}
								}
							}
						}
					}
				default:
					s.skip()
				}
			}
		}
		out = append(out, cs)
	}
	return out
}

func parseContainerState(s *scanner, cs *podContainerStatus) {
	if !s.beginObject() {
		return
	}
	for k, ok := s.nextKey(); ok; k, ok = s.nextKey() {
		if s.isNull() {
			continue
		}
		switch string(k) {
		case "waiting":
			cs.waiting = true
			if s.beginObject() {
				for k2, ok := s.nextKey(); ok; k2, ok = s.nextKey() {
					if string(k2) == "reason" {
						cs.waitingReason = s.strBytes()
					} else {
						s.skip()
					}
				}
			}
		case "running":
			cs.running = true
			s.skip()
		case "terminated":
			cs.terminated = true
			if s.beginObject() {
				for k2, ok := s.nextKey(); ok; k2, ok = s.nextKey() {
					switch string(k2) {
					case "reason":
						cs.termReason = s.strBytes()
					case "exitCode":
						cs.exitCode = s.int()
					case "signal":
						cs.signal = s.int()
					default:
						s.skip()
					}
				}
			}
		default:
			s.skip()
		}
	}
}

// podRowState is what printPod accumulates over the container statuses.
type podRowState struct {
	reason                  string
	restarts                int64
	lastRestart             time.Time
	restartableInitRestarts int64
	lastRestartableInit     time.Time
	ready, total            int
}

// row computes the pod's cells exactly as kube-apiserver's printPod does
// (wide columns included, as the server always prints them).
func (ps *podScratch) row(m *objMeta) ([]interface{}, []metav1.TableRowCondition) {
	podPhase := string(ps.phase)
	st := podRowState{reason: podPhase, total: ps.containers}
	if len(ps.reason) > 0 {
		st.reason = string(ps.reason)
	}
	for _, c := range ps.conditions {
		if string(c.typ) == string(corev1.PodScheduled) && string(c.reason) == corev1.PodReasonSchedulingGated {
			st.reason = corev1.PodReasonSchedulingGated
		}
	}

	var conds []metav1.TableRowCondition
	switch podPhase {
	case string(corev1.PodSucceeded):
		conds = podSuccessConditions
	case string(corev1.PodFailed):
		conds = podFailedConditions
	}

	for _, ic := range ps.initContainers {
		if ic.restartable {
			st.total++
		}
	}
	if initializing := ps.initStatusesRow(&st); !initializing || ps.conditionTrue(corev1.PodInitialized) {
		ps.statusesRow(&st)
	}

	if m.deleting && string(ps.reason) == nodeUnreachablePodReason {
		st.reason = "Unknown"
	} else if m.deleting && podPhase != string(corev1.PodFailed) && podPhase != string(corev1.PodSucceeded) {
		st.reason = "Terminating"
	}

	var restartsCellV interface{}
	if st.restarts != 0 && !st.lastRestart.IsZero() {
		restartsCellV = restartsCell{n: st.restarts, t: st.lastRestart}
	} else {
		restartsCellV = itoa(st.restarts)
	}

	podIP := ps.firstPodIP
	if len(ps.podIP) > 0 {
		// v1 → internal conversion: a set podIP is authoritative.
		podIP = ps.podIP
	}
	return []interface{}{
		m.name,
		strconv.Itoa(st.ready) + "/" + strconv.Itoa(st.total),
		st.reason,
		restartsCellV,
		sinceCell{m.created},
		orNone(podIP),
		orNone(ps.nodeName),
		orNone(ps.nominated),
		ps.readinessGatesCell(),
	}, conds
}

// isRestartable reports whether the init container name is a sidecar
// (restartPolicy Always).
func (ps *podScratch) isRestartable(name []byte) bool {
	for _, ic := range ps.initContainers {
		if string(ic.name) == string(name) {
			return ic.restartable
		}
	}
	return false
}

// initStatusesRow is printPod's loop over the init container statuses: it
// counts restarts and ready sidecars and reports whether the pod is still
// initializing (then st.reason is "Init:…").
func (ps *podScratch) initStatusesRow(st *podRowState) (initializing bool) {
	for i := range ps.initStatuses {
		c := &ps.initStatuses[i]
		st.restarts += c.restarts
		if c.hasLastTerm && st.lastRestart.Before(c.lastTermAt) {
			st.lastRestart = c.lastTermAt
		}
		restartable := ps.isRestartable(c.name)
		if restartable {
			st.restartableInitRestarts += c.restarts
			if c.hasLastTerm && st.lastRestartableInit.Before(c.lastTermAt) {
				st.lastRestartableInit = c.lastTermAt
			}
		}
		switch {
		case c.terminated && c.exitCode == 0:
			continue
		case restartable && c.started:
			if c.ready {
				st.ready++
			}
			continue
		case c.terminated:
			if len(c.termReason) == 0 {
				if c.signal != 0 {
					st.reason = "Init:Signal:" + itoa(c.signal)
				} else {
					st.reason = "Init:ExitCode:" + itoa(c.exitCode)
				}
			} else {
				st.reason = "Init:" + string(c.termReason)
			}
		case c.waiting && len(c.waitingReason) > 0 && string(c.waitingReason) != "PodInitializing":
			st.reason = "Init:" + string(c.waitingReason)
		default:
			st.reason = "Init:" + strconv.Itoa(i) + "/" + strconv.Itoa(len(ps.initContainers))
		}
		return true
	}
	return false
}

// statusesRow is printPod's loop over the container statuses (last first),
// once the pod is initialized.
func (ps *podScratch) statusesRow(st *podRowState) {
	st.restarts = st.restartableInitRestarts
	st.lastRestart = st.lastRestartableInit
	hasRunning := false
	errorReason := ""
	for i := len(ps.statuses) - 1; i >= 0; i-- {
		c := &ps.statuses[i]
		st.restarts += c.restarts
		if c.hasLastTerm && st.lastRestart.Before(c.lastTermAt) {
			st.lastRestart = c.lastTermAt
		}
		switch {
		case c.waiting && len(c.waitingReason) > 0:
			st.reason = string(c.waitingReason)
		case c.terminated:
			if len(c.termReason) > 0 {
				st.reason = string(c.termReason)
			} else if c.signal != 0 {
				st.reason = "Signal:" + itoa(c.signal)
			} else {
				st.reason = "ExitCode:" + itoa(c.exitCode)
			}
			if c.exitCode != 0 {
				errorReason = st.reason
			}
		case c.ready && c.running:
			hasRunning = true
			st.ready++
		}
	}
	if st.reason == "Completed" {
		if hasRunning && ps.anyConditionTrue(corev1.PodReady) {
			st.reason = "Running"
		} else if errorReason != "" {
			st.reason = errorReason
		} else if hasRunning {
			st.reason = "NotReady"
		}
	}
}

// readinessGatesCell is "<none>" or "true gates/gates".
func (ps *podScratch) readinessGatesCell() string {
	if len(ps.readinessGates) == 0 {
		return "<none>"
	}
	trueConditions := 0
	for _, g := range ps.readinessGates {
		for _, c := range ps.conditions {
			if string(c.typ) == string(g) {
				if string(c.status) == string(corev1.ConditionTrue) {
					trueConditions++
				}
				break
			}
		}
	}
	return strconv.Itoa(trueConditions) + "/" + strconv.Itoa(len(ps.readinessGates))
}

// nodeUnreachablePodReason is k8s.io/kubernetes/pkg/util/node.NodeUnreachablePodReason.
const nodeUnreachablePodReason = "NodeLost"

func (ps *podScratch) conditionTrue(t corev1.PodConditionType) bool {
	for _, c := range ps.conditions {
		if string(c.typ) == string(t) {
			return string(c.status) == string(corev1.ConditionTrue)
		}
	}
	return false
}

func (ps *podScratch) anyConditionTrue(t corev1.PodConditionType) bool {
	for _, c := range ps.conditions {
		if string(c.typ) == string(t) && string(c.status) == string(corev1.ConditionTrue) {
			return true
		}
	}
	return false
}

func orNone(b []byte) string {
	if len(b) == 0 {
		return "<none>"
	}
	return string(b)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
