// Command openapi-defs writes kube-apiserver v1.37.2's OpenAPI definitions
// of every built-in type (k8s.io/kubernetes/pkg/generated/openapi, named and
// annotated with x-kubernetes-group-version-kind exactly as kube-apiserver
// does) as two gzipped JSON objects: the swagger 2.0 "definitions" and the
// OpenAPI 3 "components.schemas". lwserver embeds them as its built-in
// fallback (edge/pkg/lwserver/openapi; `make openapi-defs` regenerates).
//
// Usage: openapi-defs OUTDIR
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsv1beta1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	utilopenapi "k8s.io/apiserver/pkg/util/openapi"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"k8s.io/kube-openapi/pkg/builder"
	"k8s.io/kube-openapi/pkg/builder3"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"
	generated "k8s.io/kubernetes/pkg/generated/openapi"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: openapi-defs OUTDIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "openapi-defs:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientscheme.AddToScheme, apiextensionsv1.AddToScheme, apiextensionsv1beta1.AddToScheme, apiregistrationv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			return err
		}
	}
	namer := openapinamer.NewDefinitionNamer(scheme)
	defs := utilopenapi.GetOpenAPIDefinitionsWithoutDisabledFeatures(generated.GetOpenAPIDefinitions)
	// Roots: every kind the scheme knows that has a definition, as
	// kube-apiserver's routes reference them; their dependencies follow.
	all := defs(func(string) spec.Ref { return spec.Ref{} })
	seen := map[string]bool{}
	var names []string
	for _, t := range scheme.AllKnownTypes() {
		name := t.PkgPath() + "." + t.Name()
		if m, ok := reflect.New(t).Elem().Interface().(interface{ OpenAPIModelName() string }); ok {
			name = m.OpenAPIModelName()
		}
		if _, ok := all[name]; ok && !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	sort.Strings(names)

	v2cfg := &common.Config{GetDefinitions: defs, GetDefinitionName: namer.GetDefinitionName,
		Info: &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: "v1.37.2"}}}
	sw, err := builder.BuildOpenAPIDefinitionsForResources(v2cfg, names...)
	if err != nil {
		return fmt.Errorf("v2: %w", err)
	}
	if err := write(filepath.Join(out, "definitions-v2.json.gz"), sw.Definitions); err != nil {
		return err
	}
	v3cfg := &common.OpenAPIV3Config{GetDefinitions: defs, GetDefinitionName: namer.GetDefinitionName,
		Info: &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: "v1.37.2"}}}
	v3cfg.Definitions = defs(func(name string) spec.Ref {
		n, _ := namer.GetDefinitionName(name)
		return spec.MustCreateRef("#/components/schemas/" + common.EscapeJsonPointer(n))
	})
	schemas, err := builder3.BuildOpenAPIDefinitionsForResources(v3cfg, names...)
	if err != nil {
		return fmt.Errorf("v3: %w", err)
	}
	return write(filepath.Join(out, "schemas-v3.json.gz"), schemas)
}

func write(path string, v interface{}) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	fmt.Printf("%s: %d bytes JSON, %d gzipped\n", path, len(b), buf.Len())
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
