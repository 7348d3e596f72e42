package jsonscan

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestMembersElements(t *testing.T) {
	in := []byte(` { "a" : 1, "b\"q":{"x":[1,"]}",{"y":"}"}]}, "c":"s\\", "d":[ ], "e":null,"f":-1.5e3 } `)
	got := map[string]string{}
	if err := Members(in, func(k string, v []byte) error { got[k] = string(v); return nil }); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "1", `b"q`: `{"x":[1,"]}",{"y":"}"}]}`, "c": `"s\\"`, "d": "[ ]", "e": "null", "f": "-1.5e3"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
	var els []string
	if err := Elements([]byte(`[1, {"a":[2]} ,"x"]`), func(i int, v []byte) error { els = append(els, string(v)); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(els, []string{"1", `{"a":[2]}`, `"x"`}) {
		t.Fatalf("got %v", els)
	}
	for _, bad := range []string{``, `[]`, `{"a"}`, `{"a":1`, `{"a":1,}`, `{"a":"x}`} {
		if err := Members([]byte(bad), func(string, []byte) error { return nil }); err == nil {
			t.Errorf("Members(%q): no error", bad)
		}
	}
}

func FuzzMembers(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"c":[1,2,"x"]}}`))
	f.Add([]byte(`{"a\u0041":"\""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			_ = Members(b, func(string, []byte) error { return nil })
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil {
			if Members(b, func(string, []byte) error { return nil }) == nil {
				t.Fatal("Members accepted a non-object")
			}
			return
		}
		got := map[string]json.RawMessage{}
		if err := Members(b, func(k string, v []byte) error { got[k] = v; return nil }); err != nil {
			t.Fatalf("Members(%q): %v", b, err)
		}
		if len(got) != len(m) {
			t.Fatalf("Members(%q) = %v, want %v", b, got, m)
		}
		for k, v := range m {
			if string(got[k]) != string(v) {
				t.Fatalf("Members(%q)[%q] = %q, want %q", b, k, got[k], v)
			}
		}
	})
}

func decodeStd(b []byte) (interface{}, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v interface{}
	err := dec.Decode(&v)
	return v, err
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{"a":1,"b":{"c":[1,2,"x",{"d":null}]},"e":true,"f":false,"g":-1.5e3,"h":"s\"q\\u0041\u00e9","i":[],"j":{}}`,
		` [ 1 , "x" ] `, `"\ud800"`, "\"\xff\xfe\"", `{"a":1,"a":2}`, `0`, `null`, `"é"`, `{"k\u0041":"v"}`,
	} {
		want, err := decodeStd([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		got, err := Decode([]byte(in))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Decode(%s) = %#v, %v; want %#v", in, got, err, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"c":[1,2,"x"]}}`))
	f.Add([]byte(`["\u00e9\ud800",-0.5e+3,true,null]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		want, err := decodeStd(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Decode(%q) = %#v, %v; want %#v", b, got, err, want)
		}
	})
}

func TestValidateMatchesJSONValid(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, in := range []string{
		``, ` `, `{}`, `[]`, `{"a":1}`, `{"a":1,}`, `[1,]`, `{"a" 1}`, `"\u00e9\ud800"`, `"\u00g0"`, `"\x"`, "\"a\x01\"", "\"\xff\"",
		`-0.5e+3`, `-`, `01`, `1.`, `1e`, `.5`, `-01`, `1E-2`, `true`, `tru`, `nul`, `null `, ` null x`, `[1 2]`, `{"a":}`,
		`{"a":[1,{"b":null}],"c":"\\\"\/\b\f\n\r\t"}`, deep(10000), deep(10001), `"abc`, `"\`, `"\u12"`, `[`, `{"a"`,
	} {
		if got, want := Validate([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("Validate(%.40q) = %v, json.Valid = %v", in, got, want)
		}
	}
}

func FuzzValidate(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"c":[1,2,"x"]}}`))
	f.Add([]byte(`["\u00e9\ud800",-0.5e+3,true,null]`))
	f.Add([]byte(`{"a" : [ 1 , 2 ] , "b" : "\n" }`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Validate(b), json.Valid(b); got != want {
			t.Fatalf("Validate(%q) = %v, json.Valid = %v", b, got, want)
		}
	})
}
