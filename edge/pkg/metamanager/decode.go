package metamanager

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/edgecore/edgecore/edge/pkg/jsonscan"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// contentBytes returns the message content as JSON. isString reports a
// content that is a JSON string (like "OK"), which carries no object.
func contentBytes(c interface{}) (raw []byte, isString bool, err error) {
	switch v := c.(type) {
	case nil:
		return nil, false, nil
	case json.RawMessage:
		raw = v
	case jsonscan.Valid:
		raw = v
	case []byte:
		raw = v
	case string:
		t := strings.TrimSpace(v)
		if strings.HasPrefix(t, "{") {
			return []byte(t), false, nil
		}
		return nil, t != "", nil
	default:
		raw, err = json.Marshal(v)
		if err != nil {
			return nil, false, fmt.Errorf("content: %v", err)
		}
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, false, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, false, fmt.Errorf("content: %v", err)
		}
		t := strings.TrimSpace(s)
		if strings.HasPrefix(t, "{") {
			return []byte(t), false, nil
		}
		return nil, t != "", nil
	}
	return raw, false, nil
}

// shallowLimit: nested values up to this size are decoded; bigger ones below
// the second level stay raw JSON.
const shallowLimit = 256

// decodeShallow decodes a JSON object for storing: metadata in full, other
// values in full when small, and otherwise only their first level, keeping
// large nested values (container lists, volumes, statuses…) as
// json.RawMessage. Field labels (at most two levels deep, or small) and
// TypeMeta stay readable; the store re-encodes the raw parts by copying them,
// which is what makes ingest cheap. A list's items are decoded the same way.
//
// validated: raw is known to be valid JSON (it is not checked again).
func decodeShallow(raw []byte, validated bool) (*shallowObj, error) {
	t := bytes.TrimLeft(raw, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	if !validated && !jsonscan.Validate(raw) {
		var v interface{}
		err := json.Unmarshal(raw, &v)
		if err == nil {
			err = errors.New("malformed")
		}
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	return shallowObject(raw, 1)
}

// shallowObj is a shallowly decoded object: view has the decoded parts (for
// validation and field labels), raws the original bytes of each top-level
// value that view holds split up (what the store encodes instead).
type shallowObj struct {
	view map[string]interface{}
	raws map[string]json.RawMessage
}

// validRaw marks a raw value of a validated document for dao.EncodeObject.
func validRaw(v interface{}) interface{} {
	if r, ok := v.(json.RawMessage); ok {
		return dao.ValidJSON(r)
	}
	return v
}

// shallowObject splits a valid JSON object (see decodeShallow).
func shallowObject(raw []byte, depth int) (*shallowObj, error) {
	so := &shallowObj{view: map[string]interface{}{}}
	obj := so.view
	err := jsonscan.Members(raw, func(k string, v []byte) error {
		var d interface{}
		var err error
		switch {
		case depth == 1 && k == "metadata":
			d, err = decodeValue(v)
		case depth == 1 && k == "items" && v[0] == '[':
			out := []interface{}{}
			err = jsonscan.Elements(v, func(_ int, it []byte) error {
				var o interface{}
				var err error
				if it[0] == '{' {
					var so *shallowObj
					if so, err = shallowObject(it, 1); err == nil {
						o = so
					}
				} else {
					o, err = decodeValue(it)
				}
				out = append(out, o)
				return err
			})
			d = out
		case len(v) <= shallowLimit:
			d, err = decodeValue(v)
		case v[0] == '{' && depth < 2:
			var sub *shallowObj
			sub, err = shallowObject(v, depth+1)
			if err == nil {
				d = sub.view
				if so.raws == nil {
					so.raws = map[string]json.RawMessage{}
				}
				so.raws[k] = json.RawMessage(v)
			}
		default:
			// big and deep (or a big array or string): kept raw
			d = json.RawMessage(v)
		}
		if err != nil {
			return err
		}
		obj[k] = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	return so, nil
}

// decodeValue decodes a value of a validated document (numbers as
// json.Number, as encoding/json with UseNumber).
func decodeValue(v []byte) (interface{}, error) {
	out, err := jsonscan.Decode(v)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	return out, nil
}

// decodeObject decodes a JSON object, keeping numbers exact.
func decodeObject(raw []byte) (map[string]interface{}, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: trailing data after the object")
	}
	obj, ok := v.(map[string]interface{})
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	return obj, nil
}

func stringAt(obj map[string]interface{}, path ...string) string {
	var cur interface{} = obj
	for _, p := range path {
		m, ok := cur.(map[string]interface{})
		if !ok {
			return ""
		}
		cur = m[p]
	}
	switch v := cur.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}
