// Package jsonscan splits JSON documents that are already known to be valid
// (json.Valid) into object members and array elements without decoding them:
// the ingest path decodes only the small parts it needs and hands the rest
// on as raw bytes.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// ErrSyntax is returned for input that is not well-formed (callers should
// validate with json.Valid first; the scanner only checks structure).
var ErrSyntax = errors.New("malformed JSON")

// ErrNotObject / ErrNotArray: the value is of another type.
var (
	ErrNotObject = errors.New("not a JSON object")
	ErrNotArray  = errors.New("not a JSON array")
)

// Members calls fn with each member of the JSON object b: its key (unquoted)
// and its raw value. val aliases b.
func Members(b []byte, fn func(key string, val []byte) error) error {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return ErrNotObject
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return ErrSyntax
		}
		end, esc, err := skipString(b, i)
		if err != nil {
			return err
		}
		var key string
		if esc || !utf8.Valid(b[i+1:end-1]) {
			if err := json.Unmarshal(b[i:end], &key); err != nil {
				return ErrSyntax
			}
		} else {
			key = string(b[i+1 : end-1])
		}
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return ErrSyntax
		}
		i = skipWS(b, i+1)
		vend, err := SkipValue(b, i)
		if err != nil {
			return err
		}
		if err := fn(key, b[i:vend]); err != nil {
			return err
		}
		i = skipWS(b, vend)
		if i >= len(b) {
			return ErrSyntax
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return nil
		default:
			return ErrSyntax
		}
	}
}

// Elements calls fn with each element of the JSON array b.
func Elements(b []byte, fn func(i int, val []byte) error) error {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '[' {
		return ErrNotArray
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return nil
	}
	for n := 0; ; n++ {
		vend, err := SkipValue(b, i)
		if err != nil {
			return err
		}
		if err := fn(n, b[i:vend]); err != nil {
			return err
		}
		i = skipWS(b, vend)
		if i >= len(b) {
			return ErrSyntax
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case ']':
			return nil
		default:
			return ErrSyntax
		}
	}
}

// SkipValue returns the end of the value starting at b[i].
func SkipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, ErrSyntax
	}
	switch b[i] {
	case '"':
		end, _, err := skipString(b, i)
		return end, err
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, ErrSyntax
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				if j == i {
					return 0, ErrSyntax
				}
				return j, nil
			}
			j++
		}
		if j == i {
			return 0, ErrSyntax
		}
		return j, nil
	}
}

// skipString returns the end of the string starting at b[i] (just past the
// closing quote) and whether it contains escapes. It jumps from quote to
// quote (bytes.IndexByte); a quote is escaped when an odd run of
// backslashes precedes it.
func skipString(b []byte, i int) (int, bool, error) {
	esc := false
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, false, ErrSyntax
		}
		q := j + k
		if !esc && bytes.IndexByte(b[j:q], '\\') >= 0 {
			esc = true
		}
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, esc, nil
		}
		j = q + 1
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}
