package handlers

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"
	"strconv"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/edgecore/edgecore/edge/pkg/jsonscan"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// Watch event encodings, as kube-apiserver writes them:
//
//   - JSON: one {"type":…,"object":…} document per event, newline
//     terminated, Content-Type application/json. The object is the stored
//     JSON spliced in as is.
//   - protobuf: per event a 4-byte big-endian length, then a
//     meta.k8s.io/v1 WatchEvent (raw protobuf, no envelope) whose object is
//     the typed object in the k8s protobuf envelope ("k8s\x00" +
//     runtime.Unknown); Content-Type
//     application/vnd.kubernetes.protobuf;stream=watch.
//   - as=Table: each event's object is a Table with one row; column
//     definitions only on the first event of the stream.
//   - as=PartialObjectMetadata: each event's object is its
//     PartialObjectMetadata.

type encodeKind int

const (
	encJSON encodeKind = iota
	encProto
	encTableJSON
	encPOMJSON
	encPOMProto
)

// streamEncoder turns deliveries into frames for one stream. Frames of
// committed events go through watchhub.Shared.Encoded, keyed by everything
// that changes the bytes, so each is built once for every stream.
type streamEncoder struct {
	h           *Handler
	req         *Request
	kind        encodeKind
	contentType string
	gv          schema.GroupVersion // of the served resource
	convGV      schema.GroupVersion // of Table / PartialObjectMetadata
	protoInfo   runtime.SerializerInfo
	// keys[type][usePrev][noHeaders] are the Shared.Encoded keys.
	keys [3][2][2]string
	// noHeaders: a Table stream has sent its column definitions (or the
	// client asked for none).
	noHeaders bool
}

var eventTypes = [3]watch.EventType{watch.Added, watch.Modified, watch.Deleted}

func typeIndex(t watch.EventType) int {
	switch t {
	case watch.Added:
		return 0
	case watch.Modified:
		return 1
	case watch.Deleted:
		return 2
	}
	return -1
}

// newEncoder picks the stream encoding negotiated for req: 406 for a media
// type without a stream encoding (YAML) or a conversion a watch cannot have.
func (s *watchServer) newEncoder(r *http.Request, req *Request) (*streamEncoder, error) {
	out := req.Output
	accepted := out.Options.Accepted
	if accepted.StreamSerializer == nil {
		return nil, s.notAcceptableStream()
	}
	e := &streamEncoder{h: s.h, req: req, gv: req.Resource.GVR.GroupVersion(), convGV: out.ConvertGV}
	proto := accepted.MediaType == MediaTypeProtobuf
	if proto {
		e.protoInfo = accepted
		e.contentType = MediaTypeProtobuf + ";stream=watch"
	} else {
		e.contentType = accepted.MediaType
	}
	prefix := ""
	switch out.Kind {
	case OutputObject:
		e.kind, prefix = encJSON, "json"
		if proto {
			e.kind, prefix = encProto, "proto"
		}
	case OutputPartialObjectMetadata:
		e.kind, prefix = encPOMJSON, "pom-json/"+e.convGV.String()
		if proto {
			e.kind, prefix = encPOMProto, "pom-proto/"+e.convGV.String()
		}
	case OutputTable:
		if proto {
			return nil, notAcceptable("Table is not available in protobuf")
		}
		include := metav1.IncludeMetadata
		if req.TableOptions != nil {
			e.noHeaders = req.TableOptions.NoHeaders
			if req.TableOptions.IncludeObject != "" {
				include = req.TableOptions.IncludeObject
			}
		}
		e.kind, prefix = encTableJSON, "table/"+e.convGV.String()+"/"+string(include)
	default:
		return nil, notAcceptable(fmt.Sprintf("you requested PartialObjectMetadataList, but the requested object is not a list (%s)", s.h.goType(req.Resource)))
	}
	for t, typ := range eventTypes {
		for p := 0; p < 2; p++ {
			for nh := 0; nh < 2; nh++ {
				e.keys[t][p][nh] = fmt.Sprintf("%s|%s|prev=%d|nohdr=%d", prefix, typ, p, nh)
			}
		}
	}
	if e.kind != encProto && e.kind != encPOMProto {
		e.protoInfo = runtime.SerializerInfo{}
	} else if e.protoInfo.Serializer == nil {
		return nil, s.notAcceptableStream()
	}
	return e, nil
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

// event returns the frame of a committed event (shared by every stream with
// the same encoding).
func (e *streamEncoder) event(d watchhub.Delivery) ([]byte, error) {
	ti := typeIndex(d.Type)
	if ti < 0 || d.Event == nil {
		return nil, fmt.Errorf("unexpected watch delivery %q", d.Type)
	}
	noHeaders := e.noHeaders
	ev := d.Event
	b, err := ev.Encoded(e.keys[ti][boolIndex(d.UsePrev)][boolIndex(noHeaders)], func() ([]byte, error) {
		obj := ev.Object
		if d.UsePrev {
			// The object left the selection: send the last state the client
			// saw, at the revision of the change (kube-apiserver's cacher).
			var err error
			if obj, err = jsonscan.SetResourceVersion(ev.PrevObject, d.Revision); err != nil {
				return nil, err
			}
		}
		return e.frame(d.Type, obj, d.Revision, noHeaders)
	})
	if err == nil && e.kind == encTableJSON {
		e.noHeaders = true
	}
	return b, err
}

// writeInitial writes the synthetic ADDED event of one object of the
// initial state (not shared: each stream reads its own list).
func (e *streamEncoder) writeInitial(st *stream, data []byte, rev int64) error {
	if e.kind == encJSON {
		st.write(jsonEventPrefix(watch.Added))
		st.write(data)
		st.write(jsonEventSuffix)
		return nil
	}
	b, err := e.frame(watch.Added, data, rev, e.noHeaders)
	if err != nil {
		return err
	}
	if e.kind == encTableJSON {
		e.noHeaders = true
	}
	st.write(b)
	return nil
}

// pageFrames is the ADDED frames of a page of the initial state, one run of
// bytes (false: an object could not be encoded; the caller writes the page
// event by event and reports the error).
func (e *streamEncoder) pageFrames(items []metaclient.Object) ([]byte, bool) {
	n := 0
	for i := range items {
		n += len(items[i].Data) + 32
	}
	out := make([]byte, 0, n)
	if e.kind == encJSON {
		for i := range items {
			out = append(out, jsonEventPrefix(watch.Added)...)
			out = append(out, items[i].Data...)
			out = append(out, jsonEventSuffix...)
		}
		return out, true
	}
	for i := range items {
		f, err := e.frame(watch.Added, items[i].Data, items[i].Revision, false)
		if err != nil {
			return nil, false
		}
		out = append(out, f...)
	}
	return out, true
}

// frame encodes one event of the object JSON obj.
func (e *streamEncoder) frame(typ watch.EventType, obj []byte, rev int64, noHeaders bool) ([]byte, error) {
	switch e.kind {
	case encJSON:
		return jsonFrame(typ, obj), nil
	case encPOMJSON:
		return jsonFrame(typ, appendPartialObjectMetadataJSON(nil, obj, e.convGV)), nil
	case encTableJSON:
		t, err := e.tableJSON(obj, rev, noHeaders)
		if err != nil {
			return nil, err
		}
		return jsonFrame(typ, t), nil
	case encProto: // transcoded from the JSON, no typed object (proto.go)
		return e.h.ProtoWatchEvent(e.req.Resource, typ, obj)
	case encPOMProto:
		pom, err := partialObjectMetadata(obj, e.convGV)
		if err != nil {
			return nil, err
		}
		return e.protoFrame(typ, e.convGV, pom)
	}
	return nil, fmt.Errorf("unknown watch encoding %d", e.kind)
}

// tableJSON is the Table (one row) of one object.
func (e *streamEncoder) tableJSON(obj []byte, rev int64, noHeaders bool) ([]byte, error) {
	opts := metav1.TableOptions{}
	if e.req.TableOptions != nil {
		opts = *e.req.TableOptions
	}
	opts.NoHeaders = noHeaders
	req := *e.req
	req.TableOptions = &opts
	tr, err := e.h.table(&req, [][]byte{obj})
	if err != nil {
		return nil, err
	}
	if rev > 0 {
		tr.t.ResourceVersion = strconv.FormatInt(rev, 10)
	}
	parts, err := tableJSON(tr)
	if err != nil {
		return nil, err
	}
	return bytes.Join(parts, nil), nil
}

// bookmark is a BOOKMARK event at rev: an object of the watched kind that
// carries only metadata.resourceVersion (and, ending the initial events of
// a sendInitialEvents watch, the k8s.io/initial-events-end annotation).
func (e *streamEncoder) bookmark(rev int64, initialEnd bool) ([]byte, error) {
	rvs := strconv.FormatInt(rev, 10)
	md := `{"resourceVersion":` + strconv.Quote(rvs)
	if initialEnd {
		md += `,"annotations":{"` + annotationInitialEventsEnd + `":"true"}`
	}
	md += "}"
	switch e.kind {
	case encJSON:
		res := e.req.Resource
		obj := `{"kind":` + strconv.Quote(res.Kind) + `,"apiVersion":` + strconv.Quote(e.gv.String()) + `,"metadata":` + md + "}"
		return jsonFrame(watch.Bookmark, []byte(obj)), nil
	case encPOMJSON:
		obj := `{"kind":"PartialObjectMetadata","apiVersion":` + strconv.Quote(e.convGV.String()) + `,"metadata":` + md + "}"
		return jsonFrame(watch.Bookmark, []byte(obj)), nil
	case encTableJSON:
		obj := `{"kind":"Table","apiVersion":` + strconv.Quote(e.convGV.String()) + `,"metadata":{"resourceVersion":` + strconv.Quote(rvs) + `},"columnDefinitions":null,"rows":[]}`
		return jsonFrame(watch.Bookmark, []byte(obj)), nil
	case encProto, encPOMProto:
		var (
			obj runtime.Object
			gv  schema.GroupVersion
			err error
		)
		if e.kind == encProto {
			gv = e.gv
			if obj, err = e.h.scheme.New(e.req.Resource.GVK()); err != nil {
				return nil, err
			}
		} else {
			gv = e.convGV
			obj = &metav1.PartialObjectMetadata{}
			obj.GetObjectKind().SetGroupVersionKind(gv.WithKind("PartialObjectMetadata"))
		}
		acc, err := meta.Accessor(obj)
		if err != nil {
			return nil, err
		}
		acc.SetResourceVersion(rvs)
		if initialEnd {
			acc.SetAnnotations(map[string]string{annotationInitialEventsEnd: "true"})
		}
		return e.protoFrame(watch.Bookmark, gv, obj)
	}
	return nil, fmt.Errorf("unknown watch encoding %d", e.kind)
}

// errorEvent is an ERROR event carrying status.
func (e *streamEncoder) errorEvent(status *metav1.Status) []byte {
	if e.kind == encProto || e.kind == encPOMProto {
		if b, err := e.protoFrame(watch.Error, statusGV, status); err == nil {
			return b
		}
	}
	b, err := e.h.EncodeObject(e.h.jsonInfo, statusGV, status)
	if err != nil {
		b = []byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":` +
			strconv.Quote(status.Message) + `,"code":` + strconv.Itoa(int(status.Code)) + `}`)
	}
	return jsonFrame(watch.Error, bytes.TrimRight(b, "\n"))
}

// protoFrame is a length-prefixed WatchEvent whose object is obj encoded in
// the k8s protobuf envelope as gv.
func (e *streamEncoder) protoFrame(typ watch.EventType, gv schema.GroupVersion, obj runtime.Object) ([]byte, error) {
	inner, err := e.h.EncodeObject(e.protoInfo, gv, obj)
	if err != nil {
		return nil, err
	}
	ev := metav1.WatchEvent{Type: string(typ), Object: runtime.RawExtension{Raw: inner}}
	n := ev.Size()
	b := make([]byte, 4+n)
	binary.BigEndian.PutUint32(b, uint32(n))
	if _, err := ev.MarshalToSizedBuffer(b[4:]); err != nil {
		return nil, err
	}
	return b, nil
}

var (
	jsonEventPrefixes = map[watch.EventType][]byte{}
	jsonEventSuffix   = []byte("}\n")
)

func init() {
	for _, t := range []watch.EventType{watch.Added, watch.Modified, watch.Deleted, watch.Bookmark, watch.Error} {
		jsonEventPrefixes[t] = []byte(`{"type":"` + string(t) + `","object":`)
	}
}

func jsonEventPrefix(t watch.EventType) []byte {
	if p, ok := jsonEventPrefixes[t]; ok {
		return p
	}
	return []byte(`{"type":` + strconv.Quote(string(t)) + `,"object":`)
}

// jsonFrame is {"type":typ,"object":obj}\n around the object's JSON bytes.
func jsonFrame(typ watch.EventType, obj []byte) []byte {
	p := jsonEventPrefix(typ)
	b := make([]byte, 0, len(p)+len(obj)+len(jsonEventSuffix))
	b = append(b, p...)
	b = append(b, obj...)
	return append(b, jsonEventSuffix...)
}
