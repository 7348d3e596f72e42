package protoenc

import (
	"encoding/binary"
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

// str reads the JSON string at e.i and returns its content: the input bytes
// themselves when the string has no escapes (nearly always), else a decoded
// copy.
func (e *encoder) str() ([]byte, error) {
	end, plain, err := e.scanStr()
	if err != nil {
		return nil, err
	}
	s := e.in[e.i+1 : end-1]
	e.i = end
	if plain {
		return s, nil
	}
	out, ok := unescape(nil, s)
	if !ok {
		return nil, e.errorf("bad string escape")
	}
	return out, nil
}

// appendStr appends the JSON string at e.i as a length-delimited field with
// tag: copied as is, or unescaped straight into the output.
func (e *encoder) appendStr(tag []byte) error {
	end, plain, err := e.scanStr()
	if err != nil {
		return err
	}
	s := e.in[e.i+1 : end-1]
	e.i = end
	if plain {
		e.out = appendBytesField(e.out, tag, s)
		return nil
	}
	e.out = append(e.out, tag...)
	out, start := openLen(e.out)
	out, ok := unescape(out, s)
	if !ok {
		e.out = out
		return e.errorf("bad string escape")
	}
	e.out = closeLen(out, start)
	return nil
}

const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
)

// scanStr finds the end (past the closing quote) of the JSON string at e.i;
// plain reports a string with neither escapes nor invalid UTF-8. Eight
// bytes at a time while they are printable ASCII other than '"' and '\'.
func (e *encoder) scanStr() (end int, plain bool, err error) {
	if !e.peek('"') {
		return 0, false, e.errorf("expected a string")
	}
	in := e.in
	j := e.i + 1
	high, esc := false, false
	for {
		for j+8 <= len(in) {
			w := binary.LittleEndian.Uint64(in[j:])
			q := w ^ ('"' * swarLo)
			b := w ^ ('\\' * swarLo)
			if ((q-swarLo)&^q|(b-swarLo)&^b|(w-0x20*swarLo)|w)&swarHi != 0 {
				break
			}
			j += 8
		}
		if j >= len(in) {
			return 0, false, e.errorf("unterminated string")
		}
		switch c := in[j]; {
		case c == '"':
			s := in[e.i+1 : j]
			return j + 1, !esc && (!high || utf8.Valid(s)), nil
		case c == '\\':
			esc = true
			j += 2
		case c < 0x20:
			return 0, false, e.errorf("control character in string")
		default:
			high = high || c >= 0x80
			j++
		}
	}
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
