package promise

import (
	"fmt"
	"sort"
	"strings"
)

// Args are the six raw system call arguments as seccomp sees them.
type Args [6]uint64

// Context holds what a rule may depend on besides the arguments.
type Context struct {
	// PID is the process id the filter is built for (the self-only kill
	// rules compare with it).
	PID uint32
}

// Rule restricts the arguments of a system call. A nil Rule in an Entry
// means any arguments. Rules are plain values: they print, compare and
// evaluate without a kernel.
type Rule interface {
	// Match evaluates the rule directly on arguments.
	Match(a *Args, ctx Context) bool
	// String describes the rule in a short readable form.
	String() string
}

// Cmp holds when the low 32 bits of Arg, masked with Mask, are one of
// Values. The kernel reads integer arguments (flags, commands, families)
// as 32-bit ints, so comparing the low word is exact for them; pointers
// use Null instead.
type Cmp struct {
	Arg    int
	Mask   uint32
	Values []uint32
}

// Eq holds when lo32(arg) == v.
func Eq(arg int, v uint32) Cmp { return Cmp{arg, ^uint32(0), []uint32{v}} }

// In holds when lo32(arg) is one of vs.
func In(arg int, vs ...uint32) Cmp { return Cmp{arg, ^uint32(0), sorted(vs)} }

// MaskIn holds when lo32(arg) & mask is one of vs.
func MaskIn(arg int, mask uint32, vs ...uint32) Cmp { return Cmp{arg, mask, sorted(vs)} }

// NoBits holds when none of the bits of mask are set in lo32(arg).
func NoBits(arg int, mask uint32) Cmp { return Cmp{arg, mask, []uint32{0}} }

// AllBits holds when all the bits of mask are set in lo32(arg).
func AllBits(arg int, mask uint32) Cmp { return Cmp{arg, mask, []uint32{mask}} }

func sorted(vs []uint32) []uint32 {
	vs = append([]uint32(nil), vs...)
	sort.Slice(vs, func(i, j int) bool { return vs[i] < vs[j] })
	out := vs[:0]
	for i, v := range vs {
		if i == 0 || v != vs[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// Match implements Rule.
func (c Cmp) Match(a *Args, _ Context) bool {
	v := uint32(a[c.Arg]) & c.Mask
	for _, x := range c.Values {
		if v == x {
			return true
		}
	}
	return false
}

func (c Cmp) String() string {
	lhs := fmt.Sprintf("arg%d", c.Arg)
	if c.Mask != ^uint32(0) {
		lhs = fmt.Sprintf("arg%d&%#x", c.Arg, c.Mask)
	}
	if len(c.Values) == 1 {
		return fmt.Sprintf("%s == %#x", lhs, c.Values[0])
	}
	vs := make([]string, len(c.Values))
	for i, v := range c.Values {
		vs[i] = fmt.Sprintf("%#x", v)
	}
	return fmt.Sprintf("%s in {%s}", lhs, strings.Join(vs, ","))
}

// Null holds when the pointer argument Arg is NULL: both 32-bit halves are
// zero (a pointer whose low word is zero is not NULL, pledge.md §0.6).
type Null struct{ Arg int }

// Match implements Rule.
func (n Null) Match(a *Args, _ Context) bool { return a[n.Arg] == 0 }

func (n Null) String() string { return fmt.Sprintf("arg%d == NULL", n.Arg) }

// SelfPID holds when lo32(Arg) is the process id the filter is built for.
type SelfPID struct{ Arg int }

// Match implements Rule.
func (s SelfPID) Match(a *Args, ctx Context) bool { return uint32(a[s.Arg]) == ctx.PID }

func (s SelfPID) String() string { return fmt.Sprintf("arg%d == self pid", s.Arg) }

// And holds when all its rules hold.
type And []Rule

// Match implements Rule.
func (r And) Match(a *Args, ctx Context) bool {
	for _, x := range r {
		if !x.Match(a, ctx) {
			return false
		}
	}
	return true
}

func (r And) String() string { return join(r, " && ") }

// Or holds when any of its rules holds.
type Or []Rule

// Match implements Rule.
func (r Or) Match(a *Args, ctx Context) bool {
	for _, x := range r {
		if x.Match(a, ctx) {
			return true
		}
	}
	return false
}

func (r Or) String() string { return join(r, " || ") }

func join[T ~[]Rule](rs T, sep string) string {
	parts := make([]string, len(rs))
	for i, x := range rs {
		parts[i] = x.String()
		if _, ok := x.(Cmp); !ok && len(rs) > 1 {
			parts[i] = "(" + parts[i] + ")"
		}
	}
	return strings.Join(parts, sep)
}

// Not holds when its rule does not.
type Not struct{ Rule Rule }

// Match implements Rule.
func (n Not) Match(a *Args, ctx Context) bool { return !n.Rule.Match(a, ctx) }

func (n Not) String() string { return "!(" + n.Rule.String() + ")" }

// Access is what an open may do to a file, OpenBSD style.
type Access uint8

// The parts of an open (pledge.md §0.1).
const (
	Read   Access = 1 << iota // O_RDONLY or O_RDWR: needs rpath
	Write                     // O_WRONLY, O_RDWR or O_TRUNC: needs wpath
	Create                    // O_CREAT or O_TMPFILE: needs cpath
)

func (x Access) String() string {
	var p []string
	for _, n := range []struct {
		a Access
		s string
	}{{Read, "read"}, {Write, "write"}, {Create, "create"}} {
		if x&n.a != 0 {
			p = append(p, n.s)
		}
	}
	if len(p) == 0 {
		return "none"
	}
	return strings.Join(p, "+")
}

// Open flag and mode bits, the same on x86-64 and arm64.
const (
	oAccmode    = 0x3
	oCreat      = 0x40
	oTrunc      = 0x200
	oTmpfileBit = 0x400000 // __O_TMPFILE; O_TMPFILE adds O_DIRECTORY
	modeSpecial = 0o7000   // S_ISUID | S_ISGID | S_ISVTX
)

// Open is the OpenBSD rule for open, openat and creat (pledge.md §0.1):
// every part of the flags needs its own grant, and an open passes only
// when all the parts it asks for are granted. Each promise's entry grants
// some parts; the entries of all granted promises are merged (MergeOpen)
// before the rule is evaluated. Creating also needs a mode without the
// setuid, setgid and sticky bits.
type Open struct {
	// FlagsArg is the index of the flags argument, or -1 for creat, whose
	// flags are O_CREAT|O_WRONLY|O_TRUNC.
	FlagsArg int
	// ModeArg is the index of the mode argument.
	ModeArg int
	// Grant is what the entry allows.
	Grant Access
}

// Needs returns what an open with these flags asks for, and false when it
// can never be allowed (access mode 3).
func Needs(flags uint32) (Access, bool) {
	var need Access
	switch flags & oAccmode {
	case 0:
		need = Read
	case 1:
		need = Write
	case 2:
		need = Read | Write
	default:
		return 0, false
	}
	if flags&oTrunc != 0 {
		need |= Write
	}
	if flags&(oCreat|oTmpfileBit) != 0 {
		need |= Create
	}
	return need, true
}

func (o Open) flags(a *Args) uint32 {
	if o.FlagsArg < 0 {
		return oCreat | 1 | oTrunc
	}
	return uint32(a[o.FlagsArg])
}

// Match implements Rule.
func (o Open) Match(a *Args, _ Context) bool {
	need, ok := Needs(o.flags(a))
	if !ok || need&^o.Grant != 0 {
		return false
	}
	return need&Create == 0 || uint32(a[o.ModeArg])&modeSpecial == 0
}

func (o Open) String() string {
	if o.FlagsArg < 0 {
		return fmt.Sprintf("creat; grants %s; mode arg%d without 07000", o.Grant, o.ModeArg)
	}
	return fmt.Sprintf("flags arg%d; grants %s; mode arg%d", o.FlagsArg, o.Grant, o.ModeArg)
}

// Lower expresses the rule with Cmp, And and Or only, for code generation.
// It returns nil, false when no call can pass.
func (o Open) Lower() (Rule, bool) {
	r, w, c := o.Grant&Read != 0, o.Grant&Write != 0, o.Grant&Create != 0
	if o.FlagsArg < 0 {
		if !w || !c {
			return nil, false
		}
		return NoBits(o.ModeArg, modeSpecial), true
	}
	var modes []uint32
	if r {
		modes = append(modes, 0)
	}
	if w {
		modes = append(modes, 1)
	}
	if r && w {
		modes = append(modes, 2)
	}
	if len(modes) == 0 {
		return nil, false
	}
	f := o.FlagsArg
	rule := And{MaskIn(f, oAccmode, modes...)}
	if !w {
		rule = append(rule, NoBits(f, oTrunc))
	}
	if !c {
		rule = append(rule, NoBits(f, oCreat|oTmpfileBit))
	} else {
		rule = append(rule, Or{NoBits(f, oCreat|oTmpfileBit), NoBits(o.ModeArg, modeSpecial)})
	}
	return rule, true
}

// MergeOpen combines the Open rules of several granted entries of one
// system call into one with the union of their grants.
func MergeOpen(rules []Open) Open {
	m := rules[0]
	for _, r := range rules[1:] {
		m.Grant |= r.Grant
	}
	return m
}
