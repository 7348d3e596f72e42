package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Field returns the raw value of the top-level member name of the JSON
// object b without decoding the object: one linear scan that skips the other
// values and allocates nothing for plain keys. The value aliases b. ok is
// false when the member is absent or b is not a well-formed object.
func Field(b []byte, name string) (val []byte, ok bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil, false
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		end, esc, err := skipString(b, i)
		if err != nil {
			return nil, false
		}
		match := !esc && string(b[i+1:end-1]) == name // no allocation
		if esc {
			var key string
			match = json.Unmarshal(b[i:end], &key) == nil && key == name
		}
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipWS(b, i+1)
		vend, err := SkipValue(b, i)
		if err != nil {
			return nil, false
		}
		if match {
			return b[i:vend], true
		}
		i = skipWS(b, vend)
		if i >= len(b) || b[i] != ',' {
			return nil, false
		}
		i = skipWS(b, i+1)
	}
}

// SetResourceVersion returns a copy of the Kubernetes object JSON obj with
// metadata.resourceVersion set to the decimal string of rev. The bytes are
// spliced, not decoded: the old value is replaced, or, when metadata has
// none, the member is inserted first in metadata. Only an object whose
// metadata a scan cannot find (absent, not an object, malformed) is decoded
// and re-encoded. This is the one place that rewrites the revision of stored
// bytes: the store uses it for delete events, the watch encoder for the
// previous state of an object that left a watcher's selection.
func SetResourceVersion(obj []byte, rev int64) ([]byte, error) {
	var arr [24]byte
	val := strconv.AppendInt(append(arr[:0], '"'), rev, 10)
	val = append(val, '"')
	if md, ok := Field(obj, "metadata"); ok && len(md) >= 2 && md[0] == '{' {
		mdStart := cap(obj) - cap(md) // md aliases obj
		if old, ok := Field(md, "resourceVersion"); ok {
			at := mdStart + (cap(md) - cap(old))
			out := make([]byte, 0, len(obj)-len(old)+len(val))
			out = append(out, obj[:at]...)
			out = append(out, val...)
			return append(out, obj[at+len(old):]...), nil
		}
		ins := append([]byte(`"resourceVersion":`), val...)
		if len(bytes.TrimSpace(md[1:len(md)-1])) > 0 {
			ins = append(ins, ',')
		}
		at := mdStart + 1
		out := make([]byte, 0, len(obj)+len(ins))
		out = append(out, obj[:at]...)
		out = append(out, ins...)
		return append(out, obj[at:]...), nil
	}
	var m map[string]interface{}
	d := json.NewDecoder(bytes.NewReader(obj))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("setting resourceVersion: %w", err)
	}
	if m == nil {
		return nil, errors.New("setting resourceVersion: the object is null")
	}
	md, _ := m["metadata"].(map[string]interface{})
	if md == nil {
		md = map[string]interface{}{}
		m["metadata"] = md
	}
	md["resourceVersion"] = strconv.FormatInt(rev, 10)
	return json.Marshal(m)
}
