package jsonscan

import (
	"encoding/json"
	"unicode/utf8"
)

// Valid is JSON already checked with json.Valid (for example a message
// content the ingress validated as part of its line): consumers may split
// and copy it without validating it again. It marshals as itself.
type Valid []byte

// MarshalJSON implements json.Marshaler.
func (v Valid) MarshalJSON() ([]byte, error) {
	if len(v) == 0 {
		return []byte("null"), nil
	}
	return v, nil
}

// Decode decodes one valid JSON value into what encoding/json's Decoder with
// UseNumber gives for an interface{}: map[string]interface{},
// []interface{}, string, json.Number, bool or nil. b must be valid JSON
// (json.Valid); only structure is checked. It is faster than encoding/json
// for the small values it is used on (no reflection, no decoder state).
func Decode(b []byte) (interface{}, error) {
	i := skipWS(b, 0)
	end, err := SkipValue(b, i)
	if err != nil {
		return nil, err
	}
	if skipWS(b, end) != len(b) {
		return nil, ErrSyntax
	}
	return decodeAt(b[i:end])
}

// decodeAt decodes the value that is exactly v.
func decodeAt(v []byte) (interface{}, error) {
	if len(v) == 0 {
		return nil, ErrSyntax
	}
	switch v[0] {
	case '{':
		m := map[string]interface{}{}
		err := Members(v, func(k string, val []byte) error {
			d, err := decodeAt(val)
			if err != nil {
				return err
			}
			m[k] = d
			return nil
		})
		if err != nil {
			return nil, err
		}
		return m, nil
	case '[':
		a := []interface{}{}
		err := Elements(v, func(_ int, val []byte) error {
			d, err := decodeAt(val)
			if err != nil {
				return err
			}
			a = append(a, d)
			return nil
		})
		if err != nil {
			return nil, err
		}
		return a, nil
	case '"':
		return decodeString(v)
	case 't':
		if string(v) == "true" {
			return true, nil
		}
	case 'f':
		if string(v) == "false" {
			return false, nil
		}
	case 'n':
		if string(v) == "null" {
			return nil, nil
		}
	default:
		if v[0] == '-' || (v[0] >= '0' && v[0] <= '9') {
			return json.Number(v), nil
		}
	}
	return nil, ErrSyntax
}

// decodeString unquotes a JSON string token as encoding/json does
// (escapes resolved, invalid UTF-8 replaced).
func decodeString(v []byte) (string, error) {
	if len(v) < 2 || v[len(v)-1] != '"' {
		return "", ErrSyntax
	}
	body := v[1 : len(v)-1]
	plain := true
	for _, c := range body {
		if c == '\\' || c == '"' || c < 0x20 || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		return string(body), nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", ErrSyntax
	}
	return s, nil
}
