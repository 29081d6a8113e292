// Package wire is the byte format between a host process and its sandboxed
// Lua children: length-prefixed frames on pipes, and inside them Lua
// values (nil, booleans, numbers, binary-safe strings and tables of
// these) in a compact, exact, deterministic encoding.
//
// # Frames
//
// A frame is a 4-byte little-endian payload length, then the payload; the
// payload's first byte is the message type. Either side refuses a frame
// longer than its limit (MaxFrame by default), so a child cannot make its
// host allocate without bound.
//
// # Values
//
// Each value starts with a tag byte:
//
//	0 nil
//	1 false
//	2 true
//	3 number that is an integer in (-2^63, 2^63), not -0: zigzag uvarint
//	4 any other number: the 8 bytes of its IEEE 754 bits, little endian
//	  (NaN payloads, -0 and ±Inf survive exactly)
//	5 string: uvarint length, bytes
//	6 table: uvarint n, then the values of keys 1..n; uvarint m, then m
//	  key/value pairs of the other keys, sorted (booleans, then numbers,
//	  then strings)
//
// The encoding of a value is unique, so it can be compared as bytes and
// kept in golden files. Decoders treat their input as hostile: lengths
// are checked against what is left, nesting is limited to MaxDepth and
// nil or NaN keys are refused.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Value tags.
const (
	TagNil byte = iota
	TagFalse
	TagTrue
	TagInt
	TagFloat
	TagString
	TagTable
)

// MaxDepth is how deeply tables may nest in one value.
const MaxDepth = 200

// MaxFrame is the default limit on a frame's payload: 64 MiB.
const MaxFrame = 64 << 20

// ErrTooLarge is returned when an encoded message would exceed its limit.
var ErrTooLarge = errors.New("message too large")

// Buffer is a message being built. The zero value is ready to use; Frame
// turns it into a frame.
type Buffer struct {
	b []byte
	// Limit, when not zero, is the largest payload the buffer may grow
	// to; Err is then ErrTooLarge.
	Limit int
	err   error
}

// Reset empties the buffer for a new frame of type typ, keeping its
// memory. It reserves the 4 length bytes.
func (w *Buffer) Reset(typ byte) {
	w.b = append(w.b[:0], 0, 0, 0, 0, typ)
	w.err = nil
}

// Err returns the first error met while building (ErrTooLarge).
func (w *Buffer) Err() error { return w.err }

// Len is the payload length so far.
func (w *Buffer) Len() int { return len(w.b) - 4 }

// Frame fills in the length and returns the whole frame (valid until the
// next Reset), or the building error.
func (w *Buffer) Frame() ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	if len(w.b) < 5 {
		return nil, errors.New("bug: wire: Frame before Reset")
	}
	binary.LittleEndian.PutUint32(w.b, uint32(len(w.b)-4))
	return w.b, nil
}

func (w *Buffer) grow() bool {
	if w.err != nil {
		return false
	}
	if w.Limit > 0 && w.Len() > w.Limit {
		w.err = ErrTooLarge
		return false
	}
	return true
}

// Bytes returns the payload after the type byte (valid until the next
// change of the buffer).
func (w *Buffer) Bytes() []byte {
	if len(w.b) < 5 {
		return nil
	}
	return w.b[5:]
}

// Raw appends bytes as they are (an encoded value list, say).
func (w *Buffer) Raw(p []byte) {
	if w.Limit > 0 && w.Len()+len(p) > w.Limit {
		w.err = ErrTooLarge
		return
	}
	w.b = append(w.b, p...)
}

// Byte appends one byte.
func (w *Buffer) Byte(c byte) {
	w.b = append(w.b, c)
	w.grow()
}

// Uvarint appends x as an unsigned varint.
func (w *Buffer) Uvarint(x uint64) {
	w.b = binary.AppendUvarint(w.b, x)
	w.grow()
}

// String appends a length-prefixed string.
func (w *Buffer) String(s string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	if w.Limit > 0 && w.Len()+len(s) > w.Limit {
		w.err = ErrTooLarge
		return
	}
	w.b = append(w.b, s...)
	w.grow()
}

// Number appends a number value (tag 3 or 4).
func (w *Buffer) Number(f float64) {
	if f == math.Trunc(f) && f > -(1<<63) && f < 1<<63 && !(f == 0 && math.Signbit(f)) {
		w.b = append(w.b, TagInt)
		w.b = binary.AppendVarint(w.b, int64(f))
	} else {
		w.b = append(w.b, TagFloat)
		w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(f))
	}
	w.grow()
}

// Nil, Bool and Str append those values with their tags.
func (w *Buffer) Nil() { w.Byte(TagNil) }

// Bool appends a boolean value.
func (w *Buffer) Bool(b bool) {
	if b {
		w.Byte(TagTrue)
	} else {
		w.Byte(TagFalse)
	}
}

// Str appends a string value (tag 5).
func (w *Buffer) Str(s string) {
	w.b = append(w.b, TagString)
	w.String(s)
}

// Reader reads a payload. Errors are sticky: after the first one every
// read returns zero values, and Err reports it.
type Reader struct {
	b     []byte
	err   error
	slots int64 // array slots DecodeLua may still create
}

// NewReader reads p (without the length prefix; p[0] is the type).
func NewReader(p []byte) *Reader { return &Reader{b: p} }

// Err returns the first decoding error.
func (r *Reader) Err() error { return r.err }

// Fail records err unless an error is already recorded.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
		r.b = nil
	}
}

// Failf records a formatted malformed-message error.
func (r *Reader) Failf(format string, args ...any) {
	r.Fail(fmt.Errorf("wire: malformed message: "+format, args...))
}

// Left is the number of unread bytes.
func (r *Reader) Left() int { return len(r.b) }

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if len(r.b) < 1 {
		r.Failf("truncated")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	x, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.Failf("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return x
}

// Varint reads a zigzag varint.
func (r *Reader) Varint() int64 {
	x, n := binary.Varint(r.b)
	if n <= 0 {
		r.Failf("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return x
}

// Count reads a uvarint count of items that take at least min bytes each,
// refusing counts the rest of the payload cannot hold.
func (r *Reader) Count(min int) int {
	n := r.Uvarint()
	if r.err != nil {
		return 0
	}
	if min < 1 {
		min = 1
	}
	if n > uint64(len(r.b)/min) {
		r.Failf("count %d exceeds the message", n)
		return 0
	}
	return int(n)
}

// String reads a length-prefixed string.
func (r *Reader) String() string {
	n := r.Uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.Failf("string length %d exceeds the message", n)
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// Float reads the 8 bytes of a tag-4 number.
func (r *Reader) Float() float64 {
	if len(r.b) < 8 {
		r.Failf("truncated number")
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return f
}

// ReadFrame reads one frame from br into buf (grown as needed) and returns
// the payload. A payload longer than limit is an error that wraps
// ErrTooLarge; the stream is then unusable. io.EOF is returned unchanged
// when the stream ends cleanly before a frame.
func ReadFrame(br io.Reader, buf []byte, limit int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n == 0 {
		return nil, errors.New("wire: malformed message: empty frame")
	}
	if limit > 0 && int64(n) > int64(limit) {
		return nil, fmt.Errorf("wire: a frame of %d bytes exceeds the limit of %d: %w", n, limit, ErrTooLarge)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(br, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}
