package protoenc

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The Kubernetes protobuf envelope (k8s.io/apimachinery runtime/serializer/
// protobuf): the magic "k8s\x00", then a runtime.Unknown message
// {typeMeta=1 {apiVersion=1, kind=2}, raw=2, contentEncoding=3,
// contentType=4} whose raw is the object's own message. Watch streams frame
// each meta.k8s.io/v1 WatchEvent {type=1, object=2 (RawExtension {raw=1})}
// with a 4-byte big-endian length.
var (
	magic           = []byte("k8s\x00")
	tagUnknownType  = appendTag(nil, 1, wireBytes)
	tagUnknownRaw   = appendTag(nil, 2, wireBytes)
	tagTMAPIVersion = appendTag(nil, 1, wireBytes)
	tagTMKind       = appendTag(nil, 2, wireBytes)
	tagEventType    = appendTag(nil, 1, wireBytes)
	tagEventObject  = appendTag(nil, 2, wireBytes)
)

// unknownTypeMeta is the encoded typeMeta field of runtime.Unknown.
func unknownTypeMeta(gvk schema.GroupVersionKind) []byte {
	var tm []byte
	tm = appendBytesField(tm, tagTMAPIVersion, []byte(gvk.GroupVersion().String()))
	tm = appendBytesField(tm, tagTMKind, []byte(gvk.Kind))
	return appendBytesField(nil, tagUnknownType, tm)
}

// transcode appends the message of the JSON object data (fields only, no
// framing) to dst.
func (k *Kind) transcode(m *message, dst, data []byte) ([]byte, error) {
	e := encoder{in: data, out: dst}
	e.ws()
	if err := e.object(m); err != nil {
		return dst, err
	}
	if e.ws(); e.i != len(data) {
		return dst, e.errorf("data after the object")
	}
	return e.out, nil
}

// AppendMessage appends the protobuf message of the object JSON data (no
// envelope) to dst.
func (k *Kind) AppendMessage(dst, data []byte) ([]byte, error) {
	return k.transcode(k.msg, dst, data)
}

// AppendObject appends the object JSON data in the k8s protobuf envelope,
// as a get answers it.
func (k *Kind) AppendObject(dst, data []byte) ([]byte, error) {
	out := append(dst, magic...)
	out = append(out, k.typeMeta...)
	out = append(out, tagUnknownRaw...)
	out, start := openLen(out)
	out, err := k.transcode(k.msg, out, data)
	if err != nil {
		return dst, err
	}
	return closeLen(out, start), nil
}

// AppendWatchEvent appends one protobuf watch frame: the length, then the
// WatchEvent of type typ (ADDED, MODIFIED, DELETED) whose object is the
// object JSON data in the envelope.
func (k *Kind) AppendWatchEvent(dst []byte, typ string, data []byte) ([]byte, error) {
	at := len(dst)
	out := append(dst, 0, 0, 0, 0)
	out = appendBytesField(out, tagEventType, []byte(typ))
	out = append(out, tagEventObject...)
	out, ev := openLen(out)
	out = append(out, tagRaw...)
	out, raw := openLen(out)
	out, err := k.AppendObject(out, data)
	if err != nil {
		return dst, err
	}
	out = closeLen(out, raw)
	out = closeLen(out, ev)
	binary.BigEndian.PutUint32(out[at:], uint32(len(out)-at-4))
	return out, nil
}

// List builds a list of the kind in protobuf: items are transcoded as they
// are added (into recycled chunks, never into one growing buffer), the
// envelope, whose lengths need the total, is written last by WriteTo.
type List struct {
	k      *Kind
	chunks []*[]byte
	size   int // bytes of items so far
}

// chunkSize is the size of the buffers a list is built in; a new chunk is
// started when less than chunkSlack is left, so that an item rarely makes a
// chunk grow.
const (
	chunkSize  = 256 << 10
	chunkSlack = 16 << 10
)

// NewList starts a list of the kind. Call Release (or WriteTo) when done.
func (k *Kind) NewList() (*List, error) {
	if k.list == nil {
		return nil, fmt.Errorf("protoenc: %s has no list kind", k.gvk)
	}
	return &List{k: k}, nil
}

// Add transcodes one item (object JSON) into the list.
func (l *List) Add(data []byte) error {
	var cur *[]byte
	if n := len(l.chunks); n > 0 && cap(*l.chunks[n-1])-len(*l.chunks[n-1]) >= chunkSlack {
		cur = l.chunks[n-1]
	} else {
		cur = l.k.t.chunk()
		l.chunks = append(l.chunks, cur)
	}
	b := *cur
	before := len(b)
	b = append(b, l.k.list.items.tag...)
	b, start := openLen(b)
	b, err := l.k.transcode(l.k.msg, b, data)
	if err != nil {
		*cur = b[:before]
		return err
	}
	b = closeLen(b, start)
	l.size += len(b) - before
	*cur = b
	return nil
}

// Len is the number of bytes WriteTo writes with meta.
func (l *List) Len(meta ListMeta) int {
	head, err := l.head(meta)
	if err != nil {
		return 0
	}
	return len(head) + l.size
}

// head is everything before the items: the envelope up to raw's length,
// then the list's metadata field.
func (l *List) head(meta ListMeta) ([]byte, error) {
	mdJSON, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	ls := l.k.list
	md := append([]byte(nil), ls.metadata.tag...)
	md, start := openLen(md)
	e := encoder{in: mdJSON, out: md}
	if err := e.object(ls.metadata.msg); err != nil {
		return nil, err
	}
	md = closeLen(e.out, start)
	head := append([]byte(nil), magic...)
	head = append(head, ls.typeMeta...)
	head = append(head, tagUnknownRaw...)
	head = appendVarint(head, uint64(len(md)+l.size))
	return append(head, md...), nil
}

// WriteTo writes the list in the envelope and releases its chunks.
func (l *List) WriteTo(w io.Writer, meta ListMeta) (int64, error) {
	defer l.Release()
	head, err := l.head(meta)
	if err != nil {
		return 0, err
	}
	n, err := w.Write(head)
	total := int64(n)
	for _, c := range l.chunks {
		if err != nil {
			break
		}
		n, err = w.Write(*c)
		total += int64(n)
	}
	return total, err
}

// Release returns the list's chunks for reuse.
func (l *List) Release() {
	for _, c := range l.chunks {
		l.k.t.chunks.Put(c)
	}
	l.chunks, l.size = nil, 0
}

func (t *Transcoder) chunk() *[]byte {
	if c, ok := t.chunks.Get().(*[]byte); ok {
		*c = (*c)[:0]
		return c
	}
	c := make([]byte, 0, chunkSize)
	return &c
}
