package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Protobuf is what client-go asks for built-in kinds (kube-proxy, CoreDNS,
// most controllers): the bench reads it the way they receive it.
const (
	protoAccept      = "application/vnd.kubernetes.protobuf"
	protoWatchAccept = "application/vnd.kubernetes.protobuf;stream=watch"
)

// protoMagic starts every protobuf object kube-apiserver writes (an
// runtime.Unknown envelope follows).
var protoMagic = []byte("k8s\x00")

// decodeProto checks a protobuf answer the way a client decodes it and
// returns the kind and, for a PodList, the number of items.
func decodeProto(body []byte) (kind string, items int, err error) {
	if !bytes.HasPrefix(body, protoMagic) {
		return "", 0, fmt.Errorf("not protobuf (no k8s magic; starts %q)", truncate(string(body[:min(len(body), 20)]), 20))
	}
	var u runtime.Unknown
	if err := u.Unmarshal(body[len(protoMagic):]); err != nil {
		return "", 0, fmt.Errorf("envelope: %w", err)
	}
	switch u.Kind {
	case "PodList":
		var l corev1.PodList
		if err := l.Unmarshal(u.Raw); err != nil {
			return u.Kind, 0, fmt.Errorf("PodList: %w", err)
		}
		return u.Kind, len(l.Items), nil
	case "ConfigMapList":
		var l corev1.ConfigMapList
		if err := l.Unmarshal(u.Raw); err != nil {
			return u.Kind, 0, fmt.Errorf("ConfigMapList: %w", err)
		}
		return u.Kind, len(l.Items), nil
	case "Pod":
		var p corev1.Pod
		if err := p.Unmarshal(u.Raw); err != nil {
			return u.Kind, 0, fmt.Errorf("Pod: %w", err)
		}
		return u.Kind, 1, nil
	}
	return u.Kind, 0, nil
}

// protoFramer splits a protobuf watch stream: each event is a 4-byte
// big-endian length and a metav1.WatchEvent.
type protoFramer struct {
	r   io.Reader
	hdr [4]byte
	buf []byte
}

func newProtoFramer(r io.Reader) *protoFramer {
	return &protoFramer{r: r, buf: make([]byte, 64<<10)}
}

// maxProtoFrame bounds a frame so that a garbled length cannot make the
// bench allocate gigabytes.
const maxProtoFrame = 64 << 20

// next returns the next event; the slice is valid until the next call.
func (f *protoFramer) next() ([]byte, error) {
	if _, err := io.ReadFull(f.r, f.hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(f.hdr[:])
	if n > maxProtoFrame {
		return nil, fmt.Errorf("protobuf watch frame of %d bytes", n)
	}
	if int(n) > cap(f.buf) {
		f.buf = make([]byte, n)
	}
	b := f.buf[:n]
	if _, err := io.ReadFull(f.r, b); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

// protoEventType reads WatchEvent.type (field 1, the first one written)
// without decoding the object; it falls back to a full decode.
func protoEventType(ev []byte) string {
	if len(ev) > 2 && ev[0] == 0x0a && ev[1] < 0x80 && int(ev[1])+2 <= len(ev) {
		return string(ev[2 : 2+int(ev[1])])
	}
	var we metav1.WatchEvent
	if we.Unmarshal(ev) != nil {
		return ""
	}
	return we.Type
}

var protoSeqKey = []byte(seqAnnotation)

// protoSeq finds the bench's sequence annotation in a protobuf event: a map
// entry is key (field 1) then value (field 2, tag 0x12) with its length.
func protoSeq(ev []byte) []byte {
	k := bytes.Index(ev, protoSeqKey)
	if k < 0 {
		return nil
	}
	rest := ev[k+len(protoSeqKey):]
	if len(rest) < 2 || rest[0] != 0x12 || rest[1] >= 0x80 || int(rest[1])+2 > len(rest) {
		return nil
	}
	return rest[2 : 2+int(rest[1])]
}
