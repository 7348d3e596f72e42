package protoenc

import (
	"bytes"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// special transcodes the types with their own JSON form, each as its
// protobuf message (k8s.io/apimachinery's generated.proto):
//
//	metav1.Time       "2006-01-02T15:04:05Z07:00" → {seconds=1} (whole seconds, as Time.ProtoTime)
//	metav1.MicroTime  RFC 3339 with micros        → {seconds=1, nanos=2}
//	metav1.Duration   "1h2m3s"                    → {duration=1}
//	resource.Quantity "100m" or 0.1               → {string=1}
//	intstr.IntOrString 8080 or "http"             → {type=1, intVal=2, strVal=3}
//	runtime.RawExtension, metav1.FieldsV1: the JSON value verbatim → {raw=1}
func (e *encoder) special(f *field) error {
	e.out = append(e.out, f.tag...)
	var start int
	e.out, start = openLen(e.out)
	var err error
	switch f.kind {
	case kTime, kMicroTime:
		err = e.timeValue(f)
	case kDuration:
		err = e.durationValue(f)
	case kQuantity:
		err = e.quantityValue(f)
	case kIntOrString:
		err = e.intOrStringValue(f)
	case kRaw:
		at := e.i
		if err = e.skip(); err == nil {
			e.out = appendBytesField(e.out, tagRaw, e.in[at:e.i])
		}
	default:
		err = e.errorf("internal: no transcoding for kind %d", f.kind)
	}
	if err != nil {
		return err
	}
	e.out = closeLen(e.out, start)
	return nil
}

// Tags of the special messages' fields.
var (
	tagSeconds  = appendTag(nil, 1, wireVarint)
	tagNanos    = appendTag(nil, 2, wireVarint)
	tagRaw      = appendTag(nil, 1, wireBytes)
	tagDuration = appendTag(nil, 1, wireVarint)
	tagIOSType  = appendTag(nil, 1, wireVarint)
	tagIOSInt   = appendTag(nil, 2, wireVarint)
	tagIOSStr   = appendTag(nil, 3, wireBytes)
)

func (e *encoder) timeValue(f *field) error {
	s, err := e.strValue(f)
	if err != nil {
		return err
	}
	micro := f.kind == kMicroTime
	sec, nsec, ok := parseRFC3339(s, micro)
	if !ok {
		layout := time.RFC3339
		if micro {
			layout = metav1.RFC3339Micro
		}
		t, err := time.Parse(layout, string(s))
		if err != nil {
			return e.errorf("%q: %v", f.name, err)
		}
		if t.IsZero() {
			return nil // the zero time is an empty message
		}
		sec, nsec = t.Unix(), int64(t.Nanosecond())
	}
	e.out = append(e.out, tagSeconds...)
	e.out = appendVarint(e.out, uint64(sec))
	if micro && nsec != 0 {
		e.out = append(e.out, tagNanos...)
		e.out = appendVarint(e.out, uint64(nsec))
	}
	return nil
}

// parseRFC3339 parses the forms encoding/json writes for metav1 times,
// "2006-01-02T15:04:05Z" and "2006-01-02T15:04:05.000000Z", without
// time.Parse; anything else (offsets, other fractions, out-of-range days)
// reports !ok and goes to time.Parse.
func parseRFC3339(s []byte, micro bool) (sec, nsec int64, ok bool) {
	want := 20
	if micro {
		want = 27
	}
	if len(s) != want || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[want-1] != 'Z' {
		return 0, 0, false
	}
	num := func(from, to int) int {
		n := 0
		for _, c := range s[from:to] {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, mo, d, h, mi, se := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19)
	if y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 28 || h > 23 || mi > 59 || se > 59 {
		return 0, 0, false
	}
	if micro {
		if s[19] != '.' {
			return 0, 0, false
		}
		us := num(20, 26)
		if us < 0 {
			return 0, 0, false
		}
		nsec = int64(us) * 1000
	}
	return daysFromCivil(y, mo, d)*86400 + int64(h*3600+mi*60+se), nsec, true
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d (proleptic
// Gregorian; Howard Hinnant's algorithm), for y ≥ 1970.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

func (e *encoder) durationValue(f *field) error {
	s, err := e.strValue(f)
	if err != nil {
		return err
	}
	d, err := time.ParseDuration(string(s))
	if err != nil {
		return e.errorf("%q: %v", f.name, err)
	}
	e.out = append(e.out, tagDuration...)
	e.out = appendVarint(e.out, uint64(d))
	return nil
}

// quantityValue: Quantity's JSON is a string or a bare number; protobuf
// carries the text, which the client parses as UnmarshalJSON would.
func (e *encoder) quantityValue(f *field) error {
	var s []byte
	if e.peek('"') {
		var err error
		if s, err = e.str(); err != nil {
			return err
		}
	} else {
		var ok bool
		if s, ok = e.number(); !ok {
			return e.errorf("expected a quantity for %q", f.name)
		}
	}
	e.out = appendBytesField(e.out, tagRaw, bytes.TrimSpace(s))
	return nil
}

func (e *encoder) intOrStringValue(f *field) error {
	if e.peek('"') {
		s, err := e.str()
		if err != nil {
			return err
		}
		e.out = append(append(e.out, tagIOSType...), 1)
		e.out = appendBytesField(e.out, tagIOSStr, s)
		return nil
	}
	i32 := field{name: f.name, kind: kInt, bits: 32, tag: tagIOSInt}
	return e.numberValue(&i32)
}
