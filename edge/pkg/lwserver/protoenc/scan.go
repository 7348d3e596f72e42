package protoenc

import (
	"encoding/json"
	"unicode/utf8"
)

// The JSON scanning primitives. Stored objects are valid JSON written by
// encoding/json, but the transcoder checks what it reads all the same: bad
// input is an error, never a panic or bytes a client cannot decode.

func (e *encoder) ws() {
	for e.i < len(e.in) {
		switch e.in[e.i] {
		case ' ', '\n', '\r', '\t':
			e.i++
		default:
			return
		}
	}
}

func (e *encoder) peek(c byte) bool { return e.i < len(e.in) && e.in[e.i] == c }

func (e *encoder) consume(c byte) bool {
	if e.i < len(e.in) && e.in[e.i] == c {
		e.i++
		return true
	}
	return false
}

// literal consumes lit (true, false, null) when it is next.
func (e *encoder) literal(lit string) bool {
	if len(e.in)-e.i < len(lit) || string(e.in[e.i:e.i+len(lit)]) != lit {
		return false
	}
	e.i += len(lit)
	return true
}

func (e *encoder) null() bool { return e.peek('n') && e.literal("null") }

// strClass: 0 plain ASCII, 1 the closing quote, 2 escape or control
// character (slow path), 3 a byte of a multi-byte UTF-8 sequence.
var strClass = func() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = 2
	}
	t['"'], t['\\'] = 1, 2
	for c := 0x80; c < 0x100; c++ {
		t[c] = 3
	}
	return t
}()

// str reads the JSON string at e.i and returns its content: the input bytes
// themselves when the string has no escapes (nearly always), else a decoded
// copy (encoding/json's own decoding, invalid UTF-8 replaced as it does).
func (e *encoder) str() ([]byte, error) {
	if !e.peek('"') {
		return nil, e.errorf("expected a string")
	}
	in := e.in
	start := e.i + 1
	high := false
	for j := start; j < len(in); j++ {
		switch strClass[in[j]] {
		case 0:
			continue
		case 1:
			s := in[start:j]
			if high && !utf8.Valid(s) {
				return e.slowStr()
			}
			e.i = j + 1
			return s, nil
		case 2:
			return e.slowStr()
		case 3:
			high = true
		}
	}
	return nil, e.errorf("unterminated string")
}

// slowStr decodes a string with escapes.
func (e *encoder) slowStr() ([]byte, error) {
	in := e.in
	j := e.i + 1
	for ; j < len(in) && in[j] != '"'; j++ {
		if in[j] == '\\' {
			j++
		}
	}
	if j >= len(in) {
		return nil, e.errorf("unterminated string")
	}
	var s string
	if err := json.Unmarshal(in[e.i:j+1], &s); err != nil {
		return nil, e.errorf("bad string: %v", err)
	}
	e.i = j + 1
	return []byte(s), nil
}

// number reads a JSON number's text.
func (e *encoder) number() ([]byte, bool) {
	in := e.in
	start := e.i
	j := start
	if j < len(in) && in[j] == '-' {
		j++
	}
	digits := j
	j = skipDigits(in, j)
	if j == digits || (in[digits] == '0' && j-digits > 1) {
		return nil, false
	}
	if j < len(in) && in[j] == '.' {
		if j = skipDigits(in, j+1); in[j-1] == '.' {
			return nil, false
		}
	}
	if j < len(in) && (in[j] == 'e' || in[j] == 'E') {
		j++
		if j < len(in) && (in[j] == '+' || in[j] == '-') {
			j++
		}
		d := j
		if j = skipDigits(in, j); j == d {
			return nil, false
		}
	}
	e.i = j
	return in[start:j], true
}

func skipDigits(in []byte, j int) int {
	for j < len(in) && in[j] >= '0' && in[j] <= '9' {
		j++
	}
	return j
}

// skip skips one JSON value (a member the schema does not have), checking
// its syntax.
func (e *encoder) skip() error {
	if e.i >= len(e.in) {
		return e.errorf("unexpected end of JSON")
	}
	switch c := e.in[e.i]; {
	case c == '"':
		_, err := e.str()
		return err
	case c == '{' || c == '[':
		return e.skipContainer()
	case c == 't' && e.literal("true"), c == 'f' && e.literal("false"), c == 'n' && e.literal("null"):
		return nil
	default:
		if _, ok := e.number(); !ok {
			return e.errorf("invalid JSON value")
		}
		return nil
	}
}

func (e *encoder) skipContainer() error {
	if e.depth++; e.depth > maxDepth {
		return e.errorf("JSON nested deeper than %d", maxDepth)
	}
	defer func() { e.depth-- }()
	obj := e.in[e.i] == '{'
	closer := byte(']')
	if obj {
		closer = '}'
	}
	e.i++
	if e.ws(); e.consume(closer) {
		return nil
	}
	for {
		if obj {
			if _, err := e.str(); err != nil {
				return err
			}
			if e.ws(); !e.consume(':') {
				return e.errorf("expected ':'")
			}
			e.ws()
		}
		if err := e.skip(); err != nil {
			return err
		}
		if e.ws(); e.consume(',') {
			e.ws()
			continue
		}
		if !e.consume(closer) {
			return e.errorf("expected ',' or %q", closer)
		}
		return nil
	}
}
