package handlers

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apidiscoveryv2beta1 "k8s.io/api/apidiscovery/v2beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1beta1 "k8s.io/apimachinery/pkg/apis/meta/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// Media types lwserver produces.
const (
	MediaTypeJSON     = runtime.ContentTypeJSON     // application/json
	MediaTypeYAML     = runtime.ContentTypeYAML     // application/yaml
	MediaTypeProtobuf = runtime.ContentTypeProtobuf // application/vnd.kubernetes.protobuf
)

// newScheme is client-go's scheme (every built-in kind, typed, with protobuf)
// plus the meta.k8s.io conversions (Table, PartialObjectMetadata[List]) and
// aggregated discovery.
func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err) // static registration; cannot fail at run time
	}
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	metav1.AddMetaToScheme(s)
	metav1beta1.AddMetaToScheme(s)
	if err := apidiscoveryv2.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := apidiscoveryv2beta1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// serializerSet is a runtime.NegotiatedSerializer limited to the media types
// we can produce for a class of endpoint.
type serializerSet struct {
	infos   []runtime.SerializerInfo
	factory serializer.CodecFactory
}

func (s serializerSet) SupportedMediaTypes() []runtime.SerializerInfo { return s.infos }
func (s serializerSet) EncoderForVersion(e runtime.Encoder, gv runtime.GroupVersioner) runtime.Encoder {
	return s.factory.EncoderForVersion(e, gv)
}
func (s serializerSet) DecoderToVersion(d runtime.Decoder, gv runtime.GroupVersioner) runtime.Decoder {
	return s.factory.DecoderToVersion(d, gv)
}

func newSerializerSet(f serializer.CodecFactory, mediaTypes ...string) serializerSet {
	set := serializerSet{factory: f}
	for _, mt := range mediaTypes {
		if info, ok := runtime.SerializerInfoForMediaType(f.SupportedMediaTypes(), mt); ok {
			set.infos = append(set.infos, info)
		}
	}
	return set
}

// restrictions is negotiation.EndpointRestrictions for one resource, as
// kube-apiserver's RequestScope.AllowsMediaTypeTransform: built-in kinds can
// be served in every media type, custom resources in JSON and YAML only;
// Table in JSON and YAML; PartialObjectMetadata(List) in all.
type restrictions struct{ builtIn bool }

func (e restrictions) AllowsMediaTypeTransform(mimeType, mimeSubType string, gvk *schema.GroupVersionKind) bool {
	if gvk == nil {
		return e.builtIn || (mimeType == "application" && (mimeSubType == "json" || mimeSubType == "yaml"))
	}
	if gvk.GroupVersion() == metav1beta1.SchemeGroupVersion || gvk.GroupVersion() == metav1.SchemeGroupVersion {
		switch gvk.Kind {
		case "Table":
			return mimeType == "application" && (mimeSubType == "json" || mimeSubType == "yaml")
		case "PartialObjectMetadata", "PartialObjectMetadataList":
			return true
		}
	}
	return false
}
func (restrictions) AllowsServerVersion(string) bool  { return false }
func (restrictions) AllowsStreamSchema(s string) bool { return s == "watch" }

// OutputKind is what a response carries.
type OutputKind int

const (
	// OutputObject: the objects themselves (or their list).
	OutputObject OutputKind = iota
	// OutputTable: a meta.k8s.io Table.
	OutputTable
	// OutputPartialObjectMetadata: one PartialObjectMetadata.
	OutputPartialObjectMetadata
	// OutputPartialObjectMetadataList: a PartialObjectMetadataList.
	OutputPartialObjectMetadataList
)

// Output is the negotiated response encoding of a resource request.
type Output struct {
	// Options are negotiation's result: Options.Accepted is the serializer
	// (with its StreamSerializer for watch), Options.Convert the requested
	// transformation (as=Table…), Options.Stream "watch" when asked.
	Options negotiation.MediaTypeOptions
	// Info is Options.Accepted with the pretty serializer swapped in when
	// the client asked for pretty output.
	Info runtime.SerializerInfo
	// MediaType is Info.MediaType ("application/json", …).
	MediaType string
	Pretty    bool
	Kind      OutputKind
	// ConvertGV is the meta.k8s.io version (v1 or v1beta1) of a conversion.
	ConvertGV schema.GroupVersion
}

// negotiate picks the response encoding for a resource request.
func (h *Handler) negotiate(r *http.Request, builtIn bool) (*Output, error) {
	// As kube-apiserver's CRD handler: the serializer set includes protobuf
	// (for PartialObjectMetadata), the restrictions keep custom resources
	// themselves to JSON and YAML.
	mto, info, err := negotiation.NegotiateOutputMediaType(r, h.codecs, restrictions{builtIn: builtIn})
	if err != nil {
		return nil, err
	}
	out := &Output{Options: mto, Info: info, MediaType: info.MediaType, Pretty: mto.Pretty || isPrettyPrint(r)}
	if c := mto.Convert; c != nil {
		out.ConvertGV = c.GroupVersion()
		switch c.Kind {
		case "Table":
			out.Kind = OutputTable
		case "PartialObjectMetadata":
			out.Kind = OutputPartialObjectMetadata
		case "PartialObjectMetadataList":
			out.Kind = OutputPartialObjectMetadataList
		}
	}
	return out, nil
}

// isPrettyPrint mirrors negotiation's: ?pretty=true, or a human client.
func isPrettyPrint(r *http.Request) bool {
	if strings.Contains(r.URL.RawQuery, "pretty") {
		if pp := r.URL.Query().Get("pretty"); pp != "" {
			b, _ := strconv.ParseBool(pp)
			return b
		}
	}
	ua := r.UserAgent()
	return strings.HasPrefix(ua, "curl") || strings.HasPrefix(ua, "Wget") || strings.HasPrefix(ua, "Mozilla/5.0")
}

// EncodeObject encodes a typed object (Status, Table, discovery documents,
// typed built-in objects) with info's serializer, as gv.
func (h *Handler) EncodeObject(info runtime.SerializerInfo, gv schema.GroupVersion, obj runtime.Object) ([]byte, error) {
	var buf bytes.Buffer
	enc := h.factory.EncoderForVersion(info.Serializer, gv)
	if err := enc.Encode(obj, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeObject encodes obj and writes it with code. Encoding happens before
// the header is written so that a failure can still become a 500 Status.
func (h *Handler) writeObject(w http.ResponseWriter, r *http.Request, code int, info runtime.SerializerInfo, gv schema.GroupVersion, obj runtime.Object) {
	data, err := h.EncodeObject(info, gv, obj)
	if err != nil {
		if _, isStatus := obj.(*metav1.Status); isStatus {
			// Last resort: the Status itself cannot be encoded in the
			// negotiated type; send it as JSON.
			data, err = h.EncodeObject(h.jsonInfo, statusGV, obj)
			info = h.jsonInfo
		}
		if err != nil {
			h.WriteError(w, r, ErrInternal(err))
			return
		}
	}
	writeRaw(w, code, info.MediaType, data)
}

// writeRaw writes data as the whole response body.
func writeRaw(w http.ResponseWriter, code int, contentType string, data []byte) {
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(code)
	_, _ = w.Write(data)
}
