package protoenc

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
)

// maxDepth bounds the nesting of JSON the transcoder follows (built-in
// kinds nest a few dozen levels at most; unknown members are skipped with
// the same bound).
const maxDepth = 200

// maxInline bounds the chain of JSON-inline embedded structs a member can sit
// in (one level in every built-in kind).
const maxInline = 4

// encoder transcodes one JSON document: in is read from i on, the protobuf
// bytes are appended to out.
type encoder struct {
	in    []byte
	i     int
	out   []byte
	depth int
}

// syntaxError is malformed JSON or a value of the wrong JSON type.
func (e *encoder) errorf(format string, args ...interface{}) error {
	return fmt.Errorf("protoenc: offset %d: %s", e.i, fmt.Sprintf(format, args...))
}

// object transcodes the JSON object at e.i into the fields of m (appended
// to e.out without a length: the caller frames the message).
func (e *encoder) object(m *message) error {
	if e.depth++; e.depth > maxDepth {
		return e.errorf("JSON nested deeper than %d", maxDepth)
	}
	defer func() { e.depth-- }()
	if !e.consume('{') {
		return e.errorf("expected an object")
	}
	var (
		open   []*field // inline wrappers open around the members written last
		starts [maxInline]int
		hint   int
	)
	if e.ws(); e.peek('}') {
		e.i++
		return nil
	}
	for {
		key, err := e.str()
		if err != nil {
			return err
		}
		if e.ws(); !e.consume(':') {
			return e.errorf("expected ':' after member %q", key)
		}
		e.ws()
		idx := m.lookup(key, hint)
		if idx < 0 {
			if err := e.skip(); err != nil {
				return err
			}
		} else {
			f := m.fields[idx]
			hint = idx + 1
			open = e.reopen(open, f.inline, &starts)
			if err := e.member(f); err != nil {
				return err
			}
		}
		if e.ws(); e.consume(',') {
			e.ws()
			continue
		}
		if !e.consume('}') {
			return e.errorf("expected ',' or '}' in object")
		}
		e.reopen(open, nil, &starts)
		return nil
	}
}

// reopen closes the inline wrappers of open that chain does not share and
// opens chain's others; it returns the new open chain. Consecutive members
// of one embedded struct share a wrapper; if JSON interleaves them with
// others the wrapper is written more than once, which protobuf merges.
func (e *encoder) reopen(open, chain []*field, starts *[maxInline]int) []*field {
	k := 0
	for k < len(open) && k < len(chain) && open[k] == chain[k] {
		k++
	}
	for j := len(open) - 1; j >= k; j-- {
		e.out = closeLen(e.out, starts[j])
	}
	for j := k; j < len(chain); j++ {
		e.out = append(e.out, chain[j].tag...)
		e.out, starts[j] = openLen(e.out)
	}
	return chain
}

// member transcodes the value of member f (at e.i).
func (e *encoder) member(f *field) error {
	if e.null() {
		return nil // absent and null decode alike
	}
	if !f.repeated {
		return e.value(f)
	}
	if !e.consume('[') {
		return e.errorf("expected an array for %q", f.name)
	}
	if e.ws(); e.consume(']') {
		return nil
	}
	for {
		if e.null() {
			e.zero(f) // keeps the element's place, as JSON decoding does
		} else if err := e.value(f); err != nil {
			return err
		}
		if e.ws(); e.consume(',') {
			e.ws()
			continue
		}
		if !e.consume(']') {
			return e.errorf("expected ',' or ']' in array %q", f.name)
		}
		return nil
	}
}

// zero writes f's zero value (a null array element).
func (e *encoder) zero(f *field) {
	e.out = append(e.out, f.tag...)
	switch f.kind {
	case kBool, kInt, kUint:
		e.out = append(e.out, 0)
	case kFloat64:
		e.out = appendFixed64(e.out, 0)
	case kFloat32:
		e.out = appendFixed32(e.out, 0)
	default:
		e.out = append(e.out, 0) // empty string, bytes or message
	}
}

// value transcodes one non-null value of f, with its tag.
func (e *encoder) value(f *field) error {
	switch f.kind {
	case kString:
		if !e.peek('"') {
			return e.errorf("expected a string for %q", f.name)
		}
		return e.appendStr(f.tag)
	case kBytes:
		return e.bytesValue(f)
	case kBool:
		return e.boolValue(f)
	case kInt, kUint, kFloat64, kFloat32:
		return e.numberValue(f)
	case kMessage, kWrapper:
		e.out = append(e.out, f.tag...)
		var start int
		e.out, start = openLen(e.out)
		var err error
		if f.kind == kMessage {
			err = e.object(f.msg)
		} else {
			err = e.member(f.val)
		}
		if err != nil {
			return err
		}
		e.out = closeLen(e.out, start)
		return nil
	case kMap:
		return e.mapValue(f)
	}
	return e.special(f)
}

func (e *encoder) strValue(f *field) ([]byte, error) {
	if !e.peek('"') {
		return nil, e.errorf("expected a string for %q", f.name)
	}
	return e.str()
}

// bytesValue: []byte is base64 in JSON (encoding/json's StdEncoding).
func (e *encoder) bytesValue(f *field) error {
	s, err := e.strValue(f)
	if err != nil {
		return err
	}
	e.out = append(e.out, f.tag...)
	var start int
	e.out, start = openLen(e.out)
	n := base64.StdEncoding.DecodedLen(len(s))
	e.out = append(e.out, make([]byte, n)...)
	got, err := base64.StdEncoding.Decode(e.out[start:], s)
	if err != nil {
		return e.errorf("%q: illegal base64 data: %v", f.name, err)
	}
	e.out = closeLen(e.out[:start+got], start)
	return nil
}

func (e *encoder) boolValue(f *field) error {
	var v byte
	switch {
	case e.literal("true"):
		v = 1
	case e.literal("false"):
	default:
		return e.errorf("expected a boolean for %q", f.name)
	}
	e.out = append(append(e.out, f.tag...), v)
	return nil
}

// numberValue: integers must be integers in range of the Go type, as
// encoding/json requires.
func (e *encoder) numberValue(f *field) error {
	num, ok := e.number()
	if !ok {
		return e.errorf("expected a number for %q", f.name)
	}
	e.out = append(e.out, f.tag...)
	switch f.kind {
	case kInt:
		v, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil || (f.bits == 32 && v != int64(int32(v))) {
			return e.errorf("%q: cannot use %s as a %d-bit integer", f.name, num, f.bits)
		}
		e.out = appendVarint(e.out, uint64(v))
	case kUint:
		v, err := strconv.ParseUint(string(num), 10, 64)
		if err != nil || (f.bits == 32 && v > math.MaxUint32) {
			return e.errorf("%q: cannot use %s as an unsigned %d-bit integer", f.name, num, f.bits)
		}
		e.out = appendVarint(e.out, v)
	case kFloat64:
		v, err := strconv.ParseFloat(string(num), 64)
		if err != nil {
			return e.errorf("%q: %v", f.name, err)
		}
		e.out = appendFixed64(e.out, math.Float64bits(v))
	case kFloat32:
		v, err := strconv.ParseFloat(string(num), 32)
		if err != nil {
			return e.errorf("%q: %v", f.name, err)
		}
		e.out = appendFixed32(e.out, math.Float32bits(float32(v)))
	}
	return nil
}

// mapValue: one entry message per member, key=1 and value=2 (a null value
// is the zero value, so only the key is written).
func (e *encoder) mapValue(f *field) error {
	if !e.consume('{') {
		return e.errorf("expected an object for %q", f.name)
	}
	if e.ws(); e.consume('}') {
		return nil
	}
	for {
		key, err := e.str()
		if err != nil {
			return err
		}
		if e.ws(); !e.consume(':') {
			return e.errorf("expected ':' in %q", f.name)
		}
		e.ws()
		e.out = append(e.out, f.tag...)
		var start int
		e.out, start = openLen(e.out)
		e.out = appendBytesField(e.out, f.key.tag, key)
		if !e.null() {
			if err := e.value(f.val); err != nil {
				return err
			}
		}
		e.out = closeLen(e.out, start)
		if e.ws(); e.consume(',') {
			e.ws()
			continue
		}
		if !e.consume('}') {
			return e.errorf("expected ',' or '}' in %q", f.name)
		}
		return nil
	}
}
