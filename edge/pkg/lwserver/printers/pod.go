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

// row computes the pod's cells exactly as kube-apiserver's printPod does
// (wide columns included, as the server always prints them).
func (ps *podScratch) row(m *objMeta) ([]interface{}, []metav1.TableRowCondition) {
	restarts := int64(0)
	restartableInitRestarts := int64(0)
	totalContainers := ps.containers
	readyContainers := 0
	var lastRestart, lastRestartableInitRestart time.Time

	podPhase := string(ps.phase)
	reason := podPhase
	if len(ps.reason) > 0 {
		reason = string(ps.reason)
	}
	for _, c := range ps.conditions {
		if string(c.typ) == string(corev1.PodScheduled) && string(c.reason) == corev1.PodReasonSchedulingGated {
			reason = corev1.PodReasonSchedulingGated
		}
	}

	var conds []metav1.TableRowCondition
	switch podPhase {
	case string(corev1.PodSucceeded):
		conds = podSuccessConditions
	case string(corev1.PodFailed):
		conds = podFailedConditions
	}

	isRestartable := func(name []byte) bool {
		for _, ic := range ps.initContainers {
			if string(ic.name) == string(name) {
				return ic.restartable
			}
		}
		return false
	}
	for _, ic := range ps.initContainers {
		if ic.restartable {
			totalContainers++
		}
	}

	initializing := false
	for i := range ps.initStatuses {
		c := &ps.initStatuses[i]
		restarts += c.restarts
		if c.hasLastTerm && lastRestart.Before(c.lastTermAt) {
			lastRestart = c.lastTermAt
		}
		restartable := isRestartable(c.name)
		if restartable {
			restartableInitRestarts += c.restarts
			if c.hasLastTerm && lastRestartableInitRestart.Before(c.lastTermAt) {
				lastRestartableInitRestart = c.lastTermAt
			}
		}
		switch {
		case c.terminated && c.exitCode == 0:
			continue
		case restartable && c.started:
			if c.ready {
				readyContainers++
			}
			continue
		case c.terminated:
			if len(c.termReason) == 0 {
				if c.signal != 0 {
					reason = "Init:Signal:" + itoa(c.signal)
				} else {
					reason = "Init:ExitCode:" + itoa(c.exitCode)
				}
			} else {
				reason = "Init:" + string(c.termReason)
			}
			initializing = true
		case c.waiting && len(c.waitingReason) > 0 && string(c.waitingReason) != "PodInitializing":
			reason = "Init:" + string(c.waitingReason)
			initializing = true
		default:
			reason = "Init:" + strconv.Itoa(i) + "/" + strconv.Itoa(len(ps.initContainers))
			initializing = true
		}
		break
	}

	if !initializing || ps.conditionTrue(corev1.PodInitialized) {
		restarts = restartableInitRestarts
		lastRestart = lastRestartableInitRestart
		hasRunning := false
		errorReason := ""
		for i := len(ps.statuses) - 1; i >= 0; i-- {
			c := &ps.statuses[i]
			restarts += c.restarts
			if c.hasLastTerm && lastRestart.Before(c.lastTermAt) {
				lastRestart = c.lastTermAt
			}
			switch {
			case c.waiting && len(c.waitingReason) > 0:
				reason = string(c.waitingReason)
			case c.terminated:
				if len(c.termReason) > 0 {
					reason = string(c.termReason)
				} else if c.signal != 0 {
					reason = "Signal:" + itoa(c.signal)
				} else {
					reason = "ExitCode:" + itoa(c.exitCode)
				}
				if c.exitCode != 0 {
					errorReason = reason
				}
			case c.ready && c.running:
				hasRunning = true
				readyContainers++
			}
		}
		if reason == "Completed" {
			if hasRunning && ps.anyConditionTrue(corev1.PodReady) {
				reason = "Running"
			} else if errorReason != "" {
				reason = errorReason
			} else if hasRunning {
				reason = "NotReady"
			}
		}
	}

	if m.deleting && string(ps.reason) == nodeUnreachablePodReason {
		reason = "Unknown"
	} else if m.deleting && podPhase != string(corev1.PodFailed) && podPhase != string(corev1.PodSucceeded) {
		reason = "Terminating"
	}

	var restartsCellV interface{}
	if restarts != 0 && !lastRestart.IsZero() {
		restartsCellV = restartsCell{n: restarts, t: lastRestart}
	} else {
		restartsCellV = itoa(restarts)
	}

	podIP := ps.firstPodIP
	if len(ps.podIP) > 0 {
		// v1 → internal conversion: a set podIP is authoritative.
		podIP = ps.podIP
	}
	readinessGates := "<none>"
	if len(ps.readinessGates) > 0 {
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
		readinessGates = strconv.Itoa(trueConditions) + "/" + strconv.Itoa(len(ps.readinessGates))
	}

	return []interface{}{
		m.name,
		strconv.Itoa(readyContainers) + "/" + strconv.Itoa(totalContainers),
		reason,
		restartsCellV,
		sinceCell{m.created},
		orNone(podIP),
		orNone(ps.nodeName),
		orNone(ps.nominated),
		readinessGates,
	}, conds
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
