package jsonscan

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// walk rebuilds a value with the Scanner the way encoding/json decodes it
// into an interface{} (numbers as json.Number).
func walk(s *Scanner) interface{} {
	if s.IsNull() {
		return nil
	}
	s.SkipSpace()
	if s.Offset() >= len(s.Input()) {
		s.Skip() // records the error
		return nil
	}
	switch c := s.Input()[s.Offset()]; {
	case c == '{':
		m := map[string]interface{}{}
		s.BeginObject()
		for k, ok := s.NextKey(); ok; k, ok = s.NextKey() {
			m[string(k)] = walk(s)
		}
		return m
	case c == '[':
		a := []interface{}{}
		s.BeginArray()
		for s.NextElem() {
			a = append(a, walk(s))
		}
		return a
	case c == '"':
		return s.Str()
	case c == 't' || c == 'f':
		return s.Bool()
	default:
		return json.Number(s.Number())
	}
}

func TestScannerMatchesDecode(t *testing.T) {
	for _, in := range []string{
		`{"a":1,"b":{"c":[1,2,"x",{"d":null}]},"e":true,"f":false,"g":-1.5e3,"h":"s\"q\\u0041\u00e9","i":[],"j":{}}`,
		` [ 1 , "x" ] `, `0`, `"é"`, `{"k\u0041":"v"}`,
	} {
		want, err := Decode([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		s := NewScanner([]byte(in))
		got := walk(&s)
		if s.Err() != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v (%v), want %#v", in, got, s.Err(), want)
		}
	}
}

func TestScannerTypedReads(t *testing.T) {
	s := NewScanner([]byte(`{"n":"x","i":3.9,"b":1,"s":5,"arr":[1,[2],{}],"obj":{"a":1,"b":2},"raw":{"x":[1]},"null":null}`))
	if !s.BeginObject() {
		t.Fatal("not an object")
	}
	got := map[string]interface{}{}
	for k, ok := s.NextKey(); ok; k, ok = s.NextKey() {
		switch string(k) {
		case "n":
			got["n"] = s.Int() // a string reads as 0
		case "i":
			got["i"] = s.Int()
		case "b":
			got["b"] = s.Bool()
		case "s":
			got["s"] = s.Str()
		case "arr":
			got["arr"] = s.CountElems()
		case "obj":
			got["obj"] = s.CountMembers()
		case "raw":
			a, b := s.Raw()
			got["raw"] = string(s.Input()[a:b])
		case "null":
			got["null"] = s.IsNull()
		}
	}
	want := map[string]interface{}{"n": int64(0), "i": int64(3), "b": false, "s": "", "arr": 3, "obj": 2, "raw": `{"x":[1]}`, "null": true}
	if s.Err() != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v (%v), want %v", got, s.Err(), want)
	}
	for _, bad := range []string{`{"a":1`, `{"a" 1}`, `{1:2}`, `[1,`, `{"a":"x`, `{"a":}`} {
		s := NewScanner([]byte(bad))
		walk(&s)
		if s.Err() == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func FuzzScanner(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"c":[1,2,"x"]}}`))
	f.Add([]byte(`["\u00e9\ud800",-0.5e+3,true,null]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := NewScanner(b)
		got := walk(&s)
		// Unescaped strings are returned as they are: invalid UTF-8 is not
		// replaced as encoding/json would (printers show it as stored).
		if !json.Valid(b) || !utf8.Valid(b) {
			return
		}
		want, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if s.Err() != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Scanner(%q) = %#v (%v), want %#v", b, got, s.Err(), want)
		}
	})
}
