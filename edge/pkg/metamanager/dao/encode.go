package dao

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/edgecore/edgecore/edge/pkg/jsonscan"
)

// ValidJSON is a JSON value already known to be valid (for example a
// sub-slice of a document that passed json.Valid). EncodeObject copies it
// without validating it again; it is re-encoded only when it holds
// whitespace or characters encoding/json escapes. It marshals as itself.
type ValidJSON = jsonscan.Valid

// EncodeObject encodes obj the way the store stores it: the bytes
// json.Marshal would give for obj with metadata.resourceVersion set, except
// that the resourceVersion is an empty string whose contents start at
// rvOffset (data[rvOffset-1] and data[rvOffset] are its two quotes). Put it
// in PutRequest.Data / RVOffset: the writer splices the new revision in with
// one copy, so the encoding can run on the caller's goroutine.
//
// obj is not modified. A missing metadata (or one that is not an object) is
// written as an object holding only resourceVersion.
func EncodeObject(obj map[string]interface{}) (data []byte, rvOffset int, err error) {
	e := objEncoder{buf: make([]byte, 0, 4096)}
	rvOffset = -1
	mdSeen := false
	keys := sortedKeys(obj, "metadata")
	e.buf = append(e.buf, '{')
	for i, k := range keys {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.str(k)
		e.buf = append(e.buf, ':')
		if k != "metadata" {
			if err := e.value(obj[k]); err != nil {
				return nil, 0, err
			}
			continue
		}
		mdSeen = true
		md, err := metadataMap(obj["metadata"])
		if err != nil {
			return nil, 0, err
		}
		if rvOffset, err = e.metadata(md); err != nil {
			return nil, 0, err
		}
	}
	e.buf = append(e.buf, '}')
	if !mdSeen { // cannot happen: sortedKeys always includes metadata
		return nil, 0, errors.New("dao: encode: no metadata")
	}
	return e.buf, rvOffset, nil
}

func metadataMap(v interface{}) (map[string]interface{}, error) {
	switch m := v.(type) {
	case nil:
		return nil, nil
	case map[string]interface{}:
		return m, nil
	case json.RawMessage:
		return decodeMetadata(m), nil
	case ValidJSON:
		return decodeMetadata(m), nil
	}
	// As the store always did: a metadata that is not an object is replaced.
	return nil, nil
}

func decodeMetadata(b []byte) map[string]interface{} {
	var m map[string]interface{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil
	}
	return m
}

// spliceRevision returns data with the decimal rev inserted at off.
func spliceRevision(data []byte, off int, rev int64) ([]byte, error) {
	if off < 1 || off >= len(data) || data[off-1] != '"' || data[off] != '"' {
		return nil, errors.New("dao: PutRequest.RVOffset does not point at an empty resourceVersion string")
	}
	out := make([]byte, 0, len(data)+20)
	out = append(out, data[:off]...)
	out = strconv.AppendInt(out, rev, 10)
	return append(out, data[off:]...), nil
}

// sortedKeys returns m's keys sorted, with extra included.
func sortedKeys(m map[string]interface{}, extra string) []string {
	keys := make([]string, 0, len(m)+1)
	has := false
	for k := range m {
		keys = append(keys, k)
		if k == extra {
			has = true
		}
	}
	if !has {
		keys = append(keys, extra)
	}
	slices.Sort(keys)
	return keys
}

type objEncoder struct {
	buf []byte
}

// metadata writes md with resourceVersion = "" and returns the offset of
// the string's contents.
func (e *objEncoder) metadata(md map[string]interface{}) (int, error) {
	keys := sortedKeys(md, "resourceVersion")
	off := -1
	e.buf = append(e.buf, '{')
	for i, k := range keys {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.str(k)
		e.buf = append(e.buf, ':')
		if k == "resourceVersion" {
			e.buf = append(e.buf, '"')
			off = len(e.buf)
			e.buf = append(e.buf, '"')
			continue
		}
		if err := e.value(md[k]); err != nil {
			return 0, err
		}
	}
	e.buf = append(e.buf, '}')
	return off, nil
}

func (e *objEncoder) value(v interface{}) error {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		e.str(x)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case ValidJSON:
		if len(x) > 0 && plainJSON(x) {
			e.buf = append(e.buf, x...)
			return nil
		}
		return e.marshal(json.RawMessage(x))
	case json.RawMessage:
		if len(x) > 0 && plainJSON(x) && json.Valid(x) {
			e.buf = append(e.buf, x...)
			return nil
		}
		return e.marshal(x)
	case map[string]interface{}:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.buf = append(e.buf, '{')
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.str(k)
			e.buf = append(e.buf, ':')
			if err := e.value(x[k]); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, '}')
	case []interface{}:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		e.buf = append(e.buf, '[')
		for i, el := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.value(el); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
	default:
		return e.marshal(v)
	}
	return nil
}

func (e *objEncoder) marshal(v interface{}) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	e.buf = append(e.buf, b...)
	return nil
}

// str writes s as json.Marshal does (HTML-safe escaping).
func (e *objEncoder) str(s string) {
	if plainString(s) {
		e.buf = append(e.buf, '"')
		e.buf = append(e.buf, s...)
		e.buf = append(e.buf, '"')
		return
	}
	b, _ := json.Marshal(s) // a string cannot fail
	e.buf = append(e.buf, b...)
}

// plainByte[c] is true for bytes that json.Marshal copies unchanged inside
// a string and that are not JSON whitespace: printable ASCII other than
// '"', '\\', '<', '>', '&'.
var plainByte = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = true
	}
	t['"'], t['\\'], t['<'], t['>'], t['&'] = false, false, false, false, false
	return t
}()

// plainString reports whether json.Marshal would write s as '"' + s + '"'.
// Non-ASCII is fine when it is valid UTF-8 other than U+2028 / U+2029.
func plainString(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
			continue
		}
		if !plainByte[c] && c != ' ' {
			return false
		}
	}
	return ascii || plainUTF8(s)
}

func plainUTF8(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

// plainJSON reports whether valid JSON b is already in the form json.Marshal
// gives a json.RawMessage: no whitespace outside strings, and nothing that
// its compaction escapes (<, >, &, U+2028, U+2029).
func plainJSON(b []byte) bool {
	inStr := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !jsonSpecial[c] {
			continue
		}
		switch c {
		case '"':
			inStr = !inStr
		case '\\':
			i++ // only inside strings in valid JSON; skip the escaped byte
		case '<', '>', '&':
			return false
		case ' ', '\t', '\n', '\r':
			if !inStr {
				return false
			}
		case 0xE2:
			// U+2028 and U+2029 are E2 80 A8 / E2 80 A9.
			if i+2 < len(b) && b[i+1] == 0x80 && (b[i+2] == 0xA8 || b[i+2] == 0xA9) {
				return false
			}
		}
	}
	return true
}

// jsonSpecial[c]: plainJSON must look at c.
var jsonSpecial = func() (t [256]bool) {
	for _, c := range []byte{'"', '\\', '<', '>', '&', ' ', '\t', '\n', '\r', 0xE2} {
		t[c] = true
	}
	return t
}()

// appendStringMap appends m as json.Marshal encodes it (keys sorted).
func appendStringMap(buf []byte, m map[string]string) []byte {
	var arr [16]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e := objEncoder{buf: buf}
	e.buf = append(e.buf, '{')
	for i, k := range keys {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.str(k)
		e.buf = append(e.buf, ':')
		e.str(m[k])
	}
	return append(e.buf, '}')
}
