package printers

import (
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
)

// objMeta is the part of metadata that printers use.
type objMeta struct {
	name, namespace string
	created         time.Time
	deleting        bool // deletionTimestamp is set
	// start/end span the metadata value in the object's bytes.
	start, end int
	// spans of metadata fields few printers need, parsed on demand.
	labels, annotations, ownerRefs span
}

type span struct{ start, end int }

func (sp span) bytes(data []byte) []byte {
	if sp.end <= sp.start {
		return nil
	}
	return data[sp.start:sp.end]
}

// scanMeta reads the top level of an object, parsing only its metadata.
func scanMeta(data []byte, m *objMeta) error {
	s := newScanner(data)
	if !s.beginObject() {
		if s.Err() != nil {
			return s.Err()
		}
		return errNotObject
	}
	for key, ok := s.nextKey(); ok; key, ok = s.nextKey() {
		if string(key) == "metadata" {
			parseMeta(&s, m)
		} else {
			s.skip()
		}
	}
	return s.Err()
}

type jsonError string

func (e jsonError) Error() string { return string(e) }

const errNotObject = jsonError("stored object is not a JSON object")

// parseMeta consumes the metadata value at the scanner's position.
func parseMeta(s *scanner, m *objMeta) {
	s.SkipSpace()
	m.start = s.Offset()
	if s.beginObject() {
		for key, ok := s.nextKey(); ok; key, ok = s.nextKey() {
			switch string(key) {
			case "name":
				m.name = s.str()
			case "namespace":
				m.namespace = s.str()
			case "creationTimestamp":
				m.created = s.time()
			case "deletionTimestamp":
				m.deleting = !s.isNull()
				if m.deleting {
					s.skip()
				}
			case "labels":
				m.labels = s.span()
			case "annotations":
				m.annotations = s.span()
			case "ownerReferences":
				m.ownerRefs = s.span()
			default:
				s.skip()
			}
		}
	}
	m.end = s.Offset()
	if s.Err() != nil || m.end-m.start < 2 || s.Input()[m.start] != '{' {
		m.start, m.end = 0, 0
	}
}

func (s *scanner) span() span {
	a, b := s.raw()
	return span{a, b}
}

// time reads an RFC 3339 timestamp as metav1.Time does (zero for null, "" or
// a malformed value).
func (s *scanner) time() time.Time {
	b := s.strBytes()
	if len(b) == 0 {
		return time.Time{}
	}
	return parseTime(b)
}

// parseTime parses RFC 3339, with a fast path for the "2006-01-02T15:04:05Z"
// form Kubernetes writes.
func parseTime(b []byte) time.Time {
	if len(b) == 20 && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':' && b[16] == ':' && b[19] == 'Z' {
		d := func(i, n int) (int, bool) {
			v := 0
			for _, c := range b[i : i+n] {
				if c < '0' || c > '9' {
					return 0, false
				}
				v = v*10 + int(c-'0')
			}
			return v, true
		}
		y, ok1 := d(0, 4)
		mo, ok2 := d(5, 2)
		dd, ok3 := d(8, 2)
		h, ok4 := d(11, 2)
		mi, ok5 := d(14, 2)
		se, ok6 := d(17, 2)
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && mo >= 1 && mo <= 12 && dd >= 1 && dd <= 31 && h < 24 && mi < 60 && se < 60 {
			return time.Date(y, time.Month(mo), dd, h, mi, se, 0, time.UTC)
		}
	}
	t, err := time.Parse(time.RFC3339, string(b))
	if err != nil {
		return time.Time{}
	}
	return t
}

// Time placeholders kept in cached cells and rendered per call.
type (
	// sinceCell renders as kube's translateTimestampSince: "<unknown>" for
	// the zero time, else HumanDuration(now - t).
	sinceCell struct{ t time.Time }
	// durationCell renders HumanDuration(now - t) (a running job's duration).
	durationCell struct{ t time.Time }
	// restartsCell renders "n (X ago)".
	restartsCell struct {
		n int64
		t time.Time
	}
)

func isDynamic(c interface{}) bool {
	switch c.(type) {
	case sinceCell, durationCell, restartsCell:
		return true
	}
	return false
}

// ageMemo remembers rendered durations for one call: many objects share the
// same age string, and HumanDuration allocates.
type ageMemo struct {
	secs [8]int64
	vals [8]interface{}
	n    int
}

func (a *ageMemo) human(d time.Duration) interface{} {
	sec := int64(d / time.Second)
	for i := 0; i < a.n; i++ {
		if a.secs[i] == sec {
			return a.vals[i]
		}
	}
	// Different durations with the same whole seconds render the same.
	v := interface{}(duration.HumanDuration(d))
	i := a.n % len(a.secs)
	if a.n < len(a.secs) {
		a.n++
	}
	a.secs[i], a.vals[i] = sec, v
	return v
}

func render(c interface{}, now time.Time, a *ageMemo) interface{} {
	switch v := c.(type) {
	case sinceCell:
		if v.t.IsZero() {
			return "<unknown>"
		}
		return a.human(now.Sub(v.t))
	case durationCell:
		return a.human(now.Sub(v.t))
	case restartsCell:
		return itoa(v.n) + " (" + humanSince(v.t, now) + " ago)"
	}
	return c
}

func humanSince(t, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t))
}
