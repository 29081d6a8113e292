package sandbox

import (
	"encoding/binary"
	"errors"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/sandbox/promise"
)

// The launcher's frames are encoded by hand: decoding JSON costs the
// launcher a cold encoding/json (some 200 µs, on the path of every
// launch), this costs microseconds. Integers are 64-bit little endian,
// strings and lists are prefixed by their length, a nil pointer or list
// has length -1.

type encoder struct{ b []byte }

func (e *encoder) int(v int64) { e.b = binary.LittleEndian.AppendUint64(e.b, uint64(v)) }

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) str(s string) {
	e.int(int64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) strp(s *string) {
	if s == nil {
		e.int(-1)
		return
	}
	e.str(*s)
}

func (e *encoder) strs(ss []string) {
	if ss == nil {
		e.int(-1)
		return
	}
	e.int(int64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

type decoder struct {
	b   []byte
	err error
}

var errShortFrame = errors.New("sandbox: bug: launcher frame too short")

func (d *decoder) take(n int64) []byte {
	if d.err != nil || n < 0 || n > int64(len(d.b)) {
		d.err = errShortFrame
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int64 {
	v := d.take(8)
	if v == nil {
		return 0
	}
	return int64(binary.LittleEndian.Uint64(v))
}

func (d *decoder) bool() bool {
	v := d.take(1)
	return v != nil && v[0] == 1
}

func (d *decoder) str() string { return string(d.take(d.int())) }

func (d *decoder) strp() *string {
	n := d.int()
	if n < 0 {
		return nil
	}
	s := string(d.take(n))
	return &s
}

func (d *decoder) strs() []string {
	n := d.int()
	if n < 0 || d.err != nil {
		return nil
	}
	if n > int64(len(d.b))/8 {
		d.err = errShortFrame
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.str()
	}
	return ss
}

// count reads a list length, -1 for nil.
func (d *decoder) count(minSize int64) int64 {
	n := d.int()
	if n > int64(len(d.b))/minSize {
		d.err = errShortFrame
		return -1
	}
	return n
}

func (s *launchSpec) encode() []byte {
	var e encoder
	e.str(s.Name)
	e.str(s.Path)
	e.strs(s.Args)
	e.strs(s.Env)
	e.str(s.Dir)
	e.strp(s.Promises)
	e.strp(s.ExecPromises)
	e.bool(s.Implicit)
	e.int(int64(s.Mode))
	e.bool(s.Notify)
	if s.Unveil == nil {
		e.int(-1)
	} else {
		e.int(int64(len(s.Unveil)))
	}
	for _, u := range s.Unveil {
		e.str(u.Path)
		e.str(u.Perms)
		e.bool(u.IfExists)
	}
	e.bool(s.AutoUnveil)
	e.bool(s.UnveilStrict)
	e.int(int64(len(s.Rlimits)))
	for _, r := range s.Rlimits {
		e.int(int64(r.Resource))
		e.int(int64(r.Cur))
		e.int(int64(r.Max))
		e.bool(r.Optional)
	}
	e.bool(s.Nice)
	e.int(int64(s.UID))
	e.int(int64(s.GID))
	if s.Groups == nil {
		e.int(-1)
	} else {
		e.int(int64(len(s.Groups)))
	}
	for _, g := range s.Groups {
		e.int(int64(g))
	}
	e.str(s.Chroot)
	e.bool(s.DropCaps)
	e.bool(s.NormalizeFDs)
	e.bool(s.Prepared)
	return e.b
}

func decodeSpec(b []byte) (*launchSpec, error) {
	d := &decoder{b: b}
	s := &launchSpec{}
	s.Name = d.str()
	s.Path = d.str()
	s.Args = d.strs()
	s.Env = d.strs()
	s.Dir = d.str()
	s.Promises = d.strp()
	s.ExecPromises = d.strp()
	s.Implicit = d.bool()
	s.Mode = Mode(d.int())
	s.Notify = d.bool()
	if n := d.count(17); n >= 0 {
		s.Unveil = make([]UnveilRule, n)
		for i := range s.Unveil {
			s.Unveil[i] = UnveilRule{Path: d.str(), Perms: d.str(), IfExists: d.bool()}
		}
	}
	s.AutoUnveil = d.bool()
	s.UnveilStrict = d.bool()
	if n := d.count(25); n > 0 {
		s.Rlimits = make([]Rlimit, n)
		for i := range s.Rlimits {
			s.Rlimits[i] = Rlimit{Resource: int(d.int()), Cur: uint64(d.int()), Max: uint64(d.int()), Optional: d.bool()}
		}
	}
	s.Nice = d.bool()
	s.UID = int(d.int())
	s.GID = int(d.int())
	if n := d.count(8); n >= 0 {
		s.Groups = make([]int, n)
		for i := range s.Groups {
			s.Groups[i] = int(d.int())
		}
	}
	s.Chroot = d.str()
	s.DropCaps = d.bool()
	s.NormalizeFDs = d.bool()
	s.Prepared = d.bool()
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("sandbox: bug: launcher frame too long")
	}
	return s, d.err
}

func (e *LaunchError) encode() []byte {
	var enc encoder
	enc.int(int64(e.Code))
	enc.int(int64(e.Errno))
	enc.str(e.Msg)
	return enc.b
}

func decodeLaunchError(b []byte) (*LaunchError, error) {
	d := &decoder{b: b}
	e := &LaunchError{Code: int(d.int()), Errno: syscall.Errno(d.int()), Msg: d.str()}
	return e, d.err
}

// encodePlan encodes what the launcher needs of a plan prepared by the
// parent; the ruleset travels as a descriptor beside it.
func (pl *launchPlan) encode() []byte {
	var e encoder
	e.str(pl.path)
	e.strs(pl.execPaths)
	if pl.final == nil {
		e.int(-1)
	} else {
		e.int(int64(*pl.final))
	}
	e.int(int64(len(pl.insns)))
	for _, in := range pl.insns {
		e.int(int64(in.Code) | int64(in.Jt)<<16 | int64(in.Jf)<<24 | int64(in.K)<<32)
	}
	e.bool(pl.rs != nil)
	return e.b
}

func decodePlan(b []byte) (pl *launchPlan, hasRuleset bool, err error) {
	d := &decoder{b: b}
	pl = &launchPlan{path: d.str(), execPaths: d.strs()}
	if f := d.int(); f >= 0 {
		set := promise.Set(f)
		pl.final = &set
	}
	if n := d.count(8); n > 0 {
		pl.insns = make([]unix.SockFilter, n)
		for i := range pl.insns {
			v := uint64(d.int())
			pl.insns[i] = unix.SockFilter{Code: uint16(v), Jt: uint8(v >> 16), Jf: uint8(v >> 24), K: uint32(v >> 32)}
		}
	}
	hasRuleset = d.bool()
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("sandbox: bug: launcher frame too long")
	}
	return pl, hasRuleset, d.err
}
