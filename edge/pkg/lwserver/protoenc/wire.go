package protoenc

import "encoding/binary"

// Protobuf wire types (protowire).
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// appendTag appends the key of field num with wire type wt.
func appendTag(b []byte, num int32, wt int) []byte {
	return appendVarint(b, uint64(num)<<3|uint64(wt))
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func varintSize(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func appendFixed64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }
func appendFixed32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }

// appendBytesField appends a length-delimited field.
func appendBytesField(b []byte, tag []byte, v []byte) []byte {
	b = append(b, tag...)
	b = appendVarint(b, uint64(len(v)))
	return append(b, v...)
}

// openLen reserves one byte for the length of the length-delimited value
// that is about to be appended to b, and returns b and the value's start.
// Most values are shorter than 128 bytes, so the reserved byte is usually
// all the length needs; closeLen moves longer values up to make room.
func openLen(b []byte) ([]byte, int) {
	return append(b, 0), len(b) + 1
}

// closeLen writes the length of the value that starts at start (as returned
// by openLen), shifting it when its length needs more than one byte.
func closeLen(b []byte, start int) []byte {
	n := len(b) - start
	if n < 0x80 {
		b[start-1] = byte(n)
		return b
	}
	sz := varintSize(uint64(n))
	for i := 1; i < sz; i++ {
		b = append(b, 0)
	}
	copy(b[start-1+sz:], b[start:start+n])
	v := uint64(n)
	p := start - 1
	for v >= 0x80 {
		b[p] = byte(v) | 0x80
		v >>= 7
		p++
	}
	b[p] = byte(v)
	return b
}
