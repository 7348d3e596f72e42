package protoenc

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// valueKind is how one JSON value becomes protobuf.
type valueKind uint8

const (
	kString      valueKind = iota // JSON string → bytes field
	kBytes                        // base64 JSON string → bytes field ([]byte)
	kBool                         // true/false → varint
	kInt                          // integer → varint (two's complement, as gogo writes int32/int64)
	kUint                         // non-negative integer → varint
	kFloat64                      // number → fixed64
	kFloat32                      // number → fixed32
	kMessage                      // object → nested message
	kMap                          // object → one entry message (key=1, value=2) per member
	kWrapper                      // array → message{1: repeated elem} (a named slice marked opt, e.g. ExtraValue)
	kTime                         // RFC 3339 string → metav1.Time {seconds=1}
	kMicroTime                    // RFC 3339 string with micros → metav1.MicroTime {seconds=1, nanos=2}
	kDuration                     // Go duration string → metav1.Duration {duration=1}
	kQuantity                     // string or number → resource.Quantity {string=1}
	kIntOrString                  // number or string → intstr.IntOrString {type=1, intVal=2, strVal=3}
	kRaw                          // any JSON value, verbatim → {raw=1} (runtime.RawExtension, metav1.FieldsV1)
)

// field is one protobuf field and the JSON member it comes from.
type field struct {
	name     string // JSON member name
	num      int32
	tag      []byte // encoded key (number and wire type)
	kind     valueKind
	repeated bool     // a JSON array, one occurrence per element
	bits     int      // kInt, kUint: the Go type's size (32 or 64)
	msg      *message // kMessage
	key, val *field   // kMap: entry fields; kWrapper: val is the repeated element
	// inline is the chain of protobuf fields of JSON-inline embedded
	// structs that hold this member (Volume's VolumeSource, Probe's
	// ProbeHandler): in JSON the member sits beside its parent's, in
	// protobuf it is inside a nested message.
	inline []*field
}

// message is the schema of one Go struct type.
type message struct {
	typ    reflect.Type
	fields []*field // in Go field order, which is the order encoding/json writes
	byName map[string]int
}

func (m *message) lookup(name []byte, hint int) int {
	if hint < len(m.fields) && m.fields[hint].name == string(name) {
		return hint
	}
	if i, ok := m.byName[string(name)]; ok {
		return i
	}
	return -1
}

// specialKind reports the types with their own JSON form (a json.Unmarshaler)
// and protobuf message; every other json.Unmarshaler is refused, so a new one
// in k8s.io/api fails loudly instead of being transcoded wrong.
func specialKind(t reflect.Type) (valueKind, bool) {
	switch t {
	case reflect.TypeOf(metav1.Time{}):
		return kTime, true
	case reflect.TypeOf(metav1.MicroTime{}):
		return kMicroTime, true
	case reflect.TypeOf(metav1.Duration{}):
		return kDuration, true
	case reflect.TypeOf(resource.Quantity{}):
		return kQuantity, true
	case reflect.TypeOf(intstr.IntOrString{}):
		return kIntOrString, true
	case reflect.TypeOf(runtime.RawExtension{}), reflect.TypeOf(metav1.FieldsV1{}):
		return kRaw, true
	}
	return 0, false
}

var (
	jsonUnmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	protoMarshaler  = reflect.TypeOf((*interface{ Marshal() ([]byte, error) })(nil)).Elem()
)

// isWrapper: a named slice type with its own generated protobuf message
// (authentication's ExtraValue: message {repeated string items = 1}).
func isWrapper(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Name() != "" && reflect.PointerTo(t).Implements(protoMarshaler)
}

// schemaBuilder builds messages, once per Go type (types can be recursive).
type schemaBuilder struct {
	done map[reflect.Type]*message
}

func (b *schemaBuilder) message(t reflect.Type) (*message, error) {
	if m, ok := b.done[t]; ok {
		return m, nil
	}
	m := &message{typ: t, byName: map[string]int{}}
	b.done[t] = m
	if err := b.addFields(m, t, nil); err != nil {
		delete(b.done, t)
		return nil, err
	}
	for i, f := range m.fields {
		if _, dup := m.byName[f.name]; !dup {
			m.byName[f.name] = i
		}
	}
	return m, nil
}

// addFields adds the fields of struct t to m, under the inline chain.
func (b *schemaBuilder) addFields(m *message, t reflect.Type, inline []*field) error {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		jname, jinline, skip := jsonName(sf)
		if skip {
			continue
		}
		ptag, hasProto := sf.Tag.Lookup("protobuf")
		if jinline {
			st := sf.Type
			if st.Kind() == reflect.Ptr {
				st = st.Elem()
			}
			if !hasProto {
				// TypeMeta: JSON only, never in protobuf.
				continue
			}
			wrap, err := parseTag(ptag)
			if err != nil {
				return fmt.Errorf("%s.%s: %w", t, sf.Name, err)
			}
			wrap.kind = kMessage
			wrap.setTag(wireBytes)
			if err := b.addFields(m, st, append(append([]*field(nil), inline...), wrap)); err != nil {
				return err
			}
			continue
		}
		if !hasProto {
			continue // not serialized in protobuf
		}
		f, err := parseTag(ptag)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", t, sf.Name, err)
		}
		f.name = jname
		f.inline = inline
		if err := b.describe(f, sf.Type, sf.Tag); err != nil {
			return fmt.Errorf("%s.%s: %w", t, sf.Name, err)
		}
		m.fields = append(m.fields, f)
	}
	return nil
}

// jsonName is encoding/json's view of a struct field.
func jsonName(sf reflect.StructField) (name string, inline, skip bool) {
	tag, ok := sf.Tag.Lookup("json")
	if tag == "-" {
		return "", false, true
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" && (strings.Contains(","+opts+",", ",inline,") || (sf.Anonymous && ok) || (sf.Anonymous && !ok)) {
		return "", true, false
	}
	if name == "" {
		name = sf.Name
	}
	return name, false, false
}

// parseTag reads `protobuf:"bytes,1,rep,name=x,…"`.
func parseTag(tag string) (*field, error) {
	parts := strings.Split(tag, ",")
	if len(parts) < 3 {
		return nil, fmt.Errorf("bad protobuf tag %q", tag)
	}
	n, err := strconv.ParseInt(parts[1], 10, 32)
	if err != nil || n <= 0 {
		return nil, fmt.Errorf("bad field number in protobuf tag %q", tag)
	}
	f := &field{num: int32(n)}
	return f, nil
}

// setTag sets f.tag for wire type wt.
func (f *field) setTag(wt int) { f.tag = appendTag(nil, f.num, wt) }

// describe sets f's kind (and nested schemas) from its Go type. Whether a
// field is repeated comes from the Go type too: k8s.io/api's tags say "rep"
// for some single strings and "opt" for some slices.
func (b *schemaBuilder) describe(f *field, t reflect.Type, tag reflect.StructTag) error {
	if t.Kind() == reflect.Ptr {
		t = t.Elem()
	}
	f.repeated = false
	if t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 && !isWrapper(t) {
		f.repeated = true
		t = t.Elem()
		if t.Kind() == reflect.Ptr {
			t = t.Elem()
		}
	}
	if k, ok := specialKind(t); ok {
		f.kind = k
		f.setTag(wireBytes)
		return nil
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return fmt.Errorf("Go type %s has its own JSON form the transcoder does not know", t)
	}
	switch t.Kind() {
	case reflect.String:
		f.kind = kString
	case reflect.Bool:
		f.kind = kBool
	case reflect.Int32, reflect.Int64, reflect.Int:
		f.kind, f.bits = kInt, t.Bits()
	case reflect.Uint32, reflect.Uint64, reflect.Uint:
		f.kind, f.bits = kUint, t.Bits()
	case reflect.Float64:
		f.kind = kFloat64
	case reflect.Float32:
		f.kind = kFloat32
	case reflect.Struct:
		m, err := b.message(t)
		if err != nil {
			return err
		}
		f.kind, f.msg = kMessage, m
	case reflect.Map:
		return b.describeMap(f, t, tag)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			f.kind = kBytes
			break
		}
		if !isWrapper(t) {
			return fmt.Errorf("nested slices (Go type %s)", t)
		}
		// a named slice carried as a message of its own (ExtraValue…)
		elem := &field{num: 1}
		if err := b.describe(elem, reflect.SliceOf(t.Elem()), ""); err != nil {
			return err
		}
		f.kind, f.val = kWrapper, elem
	default:
		return fmt.Errorf("unsupported Go type %s", t)
	}
	switch f.kind {
	case kBool, kInt, kUint:
		f.setTag(wireVarint)
	case kFloat64:
		f.setTag(wireFixed64)
	case kFloat32:
		f.setTag(wireFixed32)
	default:
		f.setTag(wireBytes)
	}
	return nil
}

// describeMap: a map is a repeated entry message {key=1, value=2}.
func (b *schemaBuilder) describeMap(f *field, t reflect.Type, tag reflect.StructTag) error {
	if t.Key().Kind() != reflect.String {
		return fmt.Errorf("map key of Go type %s", t.Key())
	}
	f.kind, f.repeated = kMap, false
	f.setTag(wireBytes)
	f.key = &field{num: 1, kind: kString}
	f.key.setTag(wireBytes)
	f.val = &field{num: 2}
	vt := t.Elem()
	if pv, ok := tag.Lookup("protobuf_val"); ok {
		vf, err := parseTag(pv)
		if err != nil {
			return err
		}
		f.val.num = vf.num
	}
	return b.describe(f.val, vt, "")
}
