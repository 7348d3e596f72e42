package protoenc

import (
	"encoding/json"
	"math/rand"
	"testing"
	gotime "time"

	"k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	"k8s.io/apimachinery/pkg/api/resource"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/randfill"

	"github.com/edgecore/edgecore/edge/pkg/kube"
)

// fillFuncs keep random objects within what JSON can carry (the same
// restrictions k8s' own round-trip tests make).
func fillFuncs(runtimeserializer.CodecFactory) []interface{} {
	return []interface{}{
		func(v *intstr.IntOrString, c randfill.Continue) {
			if c.Bool() {
				*v = intstr.FromInt32(c.Int31() - 1<<30)
			} else {
				*v = intstr.FromString(c.String(10))
			}
		},
		func(q *resource.Quantity, c randfill.Continue) {
			qs := []string{"0", "100m", "1", "1.5Gi", "128Mi", "2e3", "1k", "500u"}
			*q = resource.MustParse(qs[c.Intn(len(qs))])
		},
		func(r *runtime.RawExtension, c randfill.Continue) {
			raws := []string{"", `{"a":"b","n":[1,2,{"x":null}]}`, `"s"`, `[]`, `{}`, "12.5"}
			if s := raws[c.Intn(len(raws))]; s != "" {
				r.Raw = []byte(s)
			}
		},
		func(f *metav1.FieldsV1, c randfill.Continue) {
			f.Raw = []byte(`{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}`)
		},
		func(t *metav1.MicroTime, c randfill.Continue) {
			t.Time = metav1.Unix(c.Int63n(4e9), c.Int63n(1e9)).Rfc3339Copy().Time.Add(
				gotime.Duration(c.Int63n(1e6)) * 1000).UTC()
		},
	}
}

// TestEquivalentRandomObjects: for every built-in kind lwserver serves,
// random objects (every field filled at random, many seeds) are JSON
// encoded, transcoded, and decoded by client-go's protobuf serializer; the
// result must equal the JSON decoding.
func TestEquivalentRandomObjects(t *testing.T) {
	tr := New(newTestScheme(t))
	codecs := runtimeserializer.NewCodecFactory(tr.scheme)
	funcs := fuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, fillFuncs)
	seeds := 20
	if testing.Short() {
		seeds = 3
	}
	kinds := 0
	for _, res := range kube.NewMapper().Resources() {
		if !res.BuiltIn {
			continue
		}
		kinds++
		gvk := res.GVK()
		t.Run(gvk.String(), func(t *testing.T) {
			for seed := 0; seed < seeds; seed++ {
				f := fuzzer.FuzzerFor(funcs, rand.NewSource(int64(seed)), codecs).NilChance(0.2).NumElements(0, 3)
				obj, err := tr.scheme.New(gvk)
				if err != nil {
					t.Fatal(err)
				}
				f.Fill(obj)
				data, err := json.Marshal(obj)
				if err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				checkEquivalent(t, tr, gvk, data)
			}
		})
	}
	if kinds < 40 {
		t.Fatalf("only %d built-in kinds", kinds)
	}
}
