package filter

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vow-sandbox/vow/sandbox/bpf"
	"github.com/vow-sandbox/vow/sandbox/promise"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

// verdict is what the program decides for one system call number.
type verdict struct {
	ret   uint32       // constant verdict, when !check
	check bool         // arguments decide: rule, then allow, else deny
	rule  promise.Rule // the merged rule when check
	name  string       // system call name ("" for a number that is none)
	from  []string     // promises granting it
}

// plan computes the verdict of every number below firstUnknown.
func (p *Policy) plan(a *sysno.Arch, annotate bool) ([]verdict, uint32, error) {
	deny, err := p.DenyAction()
	if err != nil {
		return nil, 0, err
	}
	ix := indexFor(a)
	granted := p.sources()
	var below uint32
	if p.Beneath != nil {
		below = (&Policy{Promises: *p.Beneath, Runtime: true}).sources()
	}
	vs := make([]verdict, firstUnknown)
	for nr := range vs {
		v := &vs[nr]
		v.ret = deny
		m, srcs := ix.merge(uint32(nr), granted)
		if p.Beneath != nil {
			m = deferTo(m, ix, uint32(nr), below)
		}
		if annotate {
			v.name = a.SyscallName(uint32(nr))
			if srcs != 0 {
				v.from = sourceNames(srcs)
			}
		}
		switch {
		case !m.ok:
		case m.rule == nil:
			v.ret = retAllow
		default:
			v.check, v.rule = true, m.rule
			v.name = a.SyscallName(uint32(nr))
		}
	}
	if p.Promises.Empty() && !p.Runtime {
		if nr, ok := a.Number("exit_group"); ok {
			vs[nr] = verdict{ret: retEPERM, name: "exit_group", from: []string{"empty promises: soft EPERM"}}
		}
	}
	for _, n := range enosysCalls {
		if nr, ok := a.Number(n); ok {
			vs[nr] = verdict{ret: retENOSYS, name: n, from: []string{"forced ENOSYS"}}
		}
	}
	return vs, deny, nil
}

// deferTo lets through, in a filter installed on top of a supervised one,
// what the supervised filter (granting sources below) refuses: allowed
// when m allows it or the filter below does not.
func deferTo(m merged, ix *archIndex, nr uint32, below uint32) merged {
	b, _ := ix.merge(nr, below)
	switch {
	case !b.ok: // refused below whatever the arguments
		return merged{ok: true}
	case b.rule == nil, m.ok && m.rule == nil: // allowed below, or here
		return m
	case !m.ok:
		return merged{ok: true, rule: promise.Not{Rule: b.rule}}
	}
	return merged{ok: true, rule: promise.Or{m.rule, promise.Not{Rule: b.rule}}}
}

// segment is a range of numbers [lo, hi] with one verdict.
type segment struct {
	lo, hi uint32
	v      verdict
	names  []string
	mixed  bool // the numbers are granted by different promises
}

func segments(vs []verdict, annotate bool) []segment {
	segs := make([]segment, 0, 256)
	for nr, v := range vs {
		n := len(segs)
		if n > 0 && !v.check && !segs[n-1].v.check && segs[n-1].v.ret == v.ret {
			segs[n-1].hi = uint32(nr)
			if !slices.Equal(segs[n-1].v.from, v.from) {
				segs[n-1].mixed = true
			}
			if v.name != "" && annotate {
				segs[n-1].names = append(segs[n-1].names, v.name)
			}
			continue
		}
		s := segment{lo: uint32(nr), hi: uint32(nr), v: v}
		if v.name != "" && annotate {
			s.names = append(make([]string, 0, 4), v.name)
		}
		segs = append(segs, s)
	}
	// Everything from firstUnknown up — later system calls, x32 numbers,
	// -1 — is ENOSYS.
	n := len(segs)
	if segs[n-1].v.ret == retENOSYS && !segs[n-1].v.check {
		segs[n-1].hi = ^uint32(0)
	} else {
		segs = append(segs, segment{lo: firstUnknown, hi: ^uint32(0), v: verdict{ret: retENOSYS}})
	}
	return segs
}

// Compile returns the seccomp program for p: the architecture check, then
// a binary search on the system call number.
func Compile(p *Policy) (*bpf.Program, error) { return compile(p, false) }

// CompileAnnotated is Compile with a comment on each instruction telling
// which system calls and promises it is about, for listings.
func CompileAnnotated(p *Policy) (*bpf.Program, error) { return compile(p, true) }

func compile(p *Policy, annotate bool) (*bpf.Program, error) {
	a, err := p.arch()
	if err != nil {
		return nil, err
	}
	vs, _, err := p.plan(a, annotate)
	if err != nil {
		return nil, err
	}
	c := &codegen{pid: p.pid(), annotate: annotate}
	b := &c.b
	b.Grow(1024)
	b.LoadAbs(offArch, "arch")
	native := b.NewLabel("")
	b.JumpIf(bpf.JEQ, a.Audit, native, bpf.Next, "AUDIT_ARCH_"+strings.ToUpper(a.Kernel))
	b.Ret(retForeign, "foreign architecture: kill-process")
	b.Mark(native)
	b.LoadAbs(offNr, "syscall number")
	c.tree(segments(vs, annotate))
	prog, err := b.Assemble()
	if err != nil {
		return prog, fmt.Errorf("filter: compiling %q: %w", p.Promises, err)
	}
	return prog, nil
}

// codegen emits rules and searches into a bpf.Builder.
type codegen struct {
	b        bpf.Builder
	pid      uint32
	annotate bool // write comments (costs most of the compile time)
}

// tree emits a binary search over segs whose leaves are the verdicts.
func (c *codegen) tree(segs []segment) {
	if len(segs) == 1 {
		c.leaf(segs[0])
		return
	}
	mid := len(segs) / 2
	right := c.b.NewLabel("")
	c.b.JumpIf(bpf.JGE, segs[mid].lo, right, bpf.Next, "")
	c.tree(segs[:mid])
	c.b.Mark(right)
	c.tree(segs[mid:])
}

func (s segment) describe() string {
	names := s.names
	more := ""
	if len(names) > 4 {
		names, more = names[:4], fmt.Sprintf(" +%d more", len(s.names)-4)
	}
	r := fmt.Sprintf("%d", s.lo)
	if s.hi != s.lo {
		r = fmt.Sprintf("%d-%d", s.lo, s.hi)
		if s.hi == ^uint32(0) {
			r = fmt.Sprintf("%d-", s.lo)
		}
	}
	d := r
	if len(names) > 0 {
		d += " " + strings.Join(names, " ") + more
	}
	if len(s.v.from) > 0 && !s.mixed {
		d += " [" + strings.Join(s.v.from, " ") + "]"
	}
	return d
}

func (c *codegen) leaf(s segment) {
	if !s.v.check {
		c.b.Ret(s.v.ret, c.note(func() string { return Describe(s.v.ret) + ": " + s.describe() }))
		return
	}
	deny := c.b.NewLabel("")
	allow := c.b.NewLabel("")
	if c.annotate {
		c.b.Mark(c.b.NewLabel(s.v.name))
	}
	c.gen(s.v.rule, allow, deny, -1, c.note(func() string { return s.describe() + ": " + s.v.rule.String() }))
	c.b.Mark(deny)
	c.b.Ret(s.v.ret, c.note(func() string { return Describe(s.v.ret) }))
	c.b.Mark(allow)
	c.b.Ret(retAllow, c.note(func() string { return "allow " + s.v.name }))
}

// note returns the comment f makes when annotating, else "".
func (c *codegen) note(f func() string) string {
	if !c.annotate {
		return ""
	}
	return f()
}

// gen emits code that goes to yes when r holds and to no otherwise. acc is
// the seccomp_data offset whose word A holds on entry (-1: unknown). When
// yes is bpf.Next, it returns the offset A holds at the fall-through exit
// (or -1).
func (c *codegen) gen(r promise.Rule, yes, no bpf.Label, acc int, comment string) int {
	// Multi-instruction tests need real labels: make the fall-through
	// exits explicit, marked right after the emitted code.
	if yes.IsNext() || no.IsNext() {
		end := c.b.NewLabel("")
		if yes.IsNext() {
			yes = end
		}
		if no.IsNext() {
			no = end
		}
		defer c.b.Mark(end)
	}
	load := func(off uint32) {
		if acc != int(off) {
			c.b.LoadAbs(off, comment)
			comment = ""
		}
		acc = int(off)
	}
	switch r := r.(type) {
	case promise.Cmp:
		load(argLo(r.Arg))
		switch {
		case r.Mask == ^uint32(0):
			c.member(r.Values, yes, no, comment)
			return acc
		case len(r.Values) == 1 && r.Values[0] == 0:
			c.b.JumpIf(bpf.JSET, r.Mask, no, yes, comment)
			return acc
		case len(r.Values) == 1 && r.Values[0] == r.Mask && r.Mask&(r.Mask-1) == 0:
			c.b.JumpIf(bpf.JSET, r.Mask, yes, no, comment)
			return acc
		}
		c.b.And(r.Mask, comment)
		c.member(r.Values, yes, no, "")
		return -1
	case promise.Null:
		load(argLo(r.Arg))
		c.b.JumpIf(bpf.JEQ, 0, bpf.Next, no, comment+" (low word)")
		c.b.LoadAbs(argHi(r.Arg), "")
		c.b.JumpIf(bpf.JEQ, 0, yes, no, "high word")
		return int(argHi(r.Arg))
	case promise.SelfPID:
		load(argLo(r.Arg))
		c.b.JumpIf(bpf.JEQ, c.pid, yes, no, comment)
		return acc
	case promise.Not:
		c.gen(r.Rule, no, yes, acc, comment)
		return -1
	case promise.Open:
		low, ok := r.Lower()
		if !ok {
			c.b.Jump(no, comment)
			return -1
		}
		return c.gen(low, yes, no, acc, comment)
	case promise.And:
		for i, sub := range r {
			if i == len(r)-1 {
				return c.gen(sub, yes, no, acc, comment)
			}
			acc = c.gen(sub, bpf.Next, no, acc, comment)
			comment = ""
		}
		return acc
	case promise.Or:
		if arg, ok := switchable(r); ok {
			return c.switchOn(arg, r, yes, no, acc, comment)
		}
		for i, sub := range r {
			if i == len(r)-1 {
				c.gen(sub, yes, no, acc, comment)
				return -1
			}
			next := c.b.NewLabel("")
			c.gen(sub, yes, next, acc, comment)
			comment = ""
			c.b.Mark(next)
			acc = -1
		}
	}
	panic(fmt.Sprintf("bug: filter cannot compile rule %T", r))
}

// switchable reports whether every alternative of r is an And starting
// with an equality on the same argument, as the (level, optname) pairs of
// setsockopt are; such an Or compiles to one load and a switch.
func switchable(r promise.Or) (int, bool) {
	arg := -1
	for _, alt := range r {
		and, ok := alt.(promise.And)
		if !ok || len(and) < 2 {
			return 0, false
		}
		eq, ok := and[0].(promise.Cmp)
		if !ok || eq.Mask != ^uint32(0) || len(eq.Values) != 1 || (arg >= 0 && eq.Arg != arg) {
			return 0, false
		}
		arg = eq.Arg
	}
	return arg, true
}

func (c *codegen) switchOn(arg int, r promise.Or, yes, no bpf.Label, acc int, comment string) int {
	if acc != int(argLo(arg)) {
		c.b.LoadAbs(argLo(arg), comment)
		comment = ""
	}
	cases := make([]bpf.Label, len(r))
	for i, alt := range r {
		cases[i] = c.b.NewLabel("")
		next := bpf.Next
		if i == len(r)-1 {
			next = no
		}
		c.b.JumpIf(bpf.JEQ, alt.(promise.And)[0].(promise.Cmp).Values[0], cases[i], next, comment)
		comment = ""
	}
	for i, alt := range r {
		c.b.Mark(cases[i])
		rest := alt.(promise.And)[1:]
		var sub promise.Rule = rest
		if len(rest) == 1 {
			sub = rest[0]
		}
		c.gen(sub, yes, no, int(argLo(arg)), "")
	}
	return -1
}

// member emits a test of A against a sorted set of values: a chain of
// JEQ for a few values, otherwise a binary search over the ranges the
// values form.
func (c *codegen) member(values []uint32, yes, no bpf.Label, comment string) {
	if len(values) <= 3 {
		for i, v := range values {
			next := bpf.Next
			if i == len(values)-1 {
				next = no
			}
			c.b.JumpIf(bpf.JEQ, v, yes, next, comment)
			comment = ""
		}
		return
	}
	// Partition [0, 2^32) into spans that are in or out of the set.
	type span struct {
		lo uint32
		in bool
	}
	var spans []span
	cur, full := uint32(0), false // full: the spans reach 2^32-1
	for i := 0; i < len(values); {
		lo := values[i]
		for i+1 < len(values) && values[i+1] == values[i]+1 {
			i++
		}
		hi := values[i]
		i++
		if lo > cur {
			spans = append(spans, span{cur, false})
		}
		spans = append(spans, span{lo, true})
		cur, full = hi+1, hi == ^uint32(0)
	}
	if !full {
		spans = append(spans, span{cur, false})
	}
	target := func(s span) bpf.Label {
		if s.in {
			return yes
		}
		return no
	}
	var search func(ss []span)
	search = func(ss []span) {
		mid := len(ss) / 2
		jt, jf := target(ss[mid]), target(ss[0])
		var right bpf.Label
		if len(ss)-mid > 1 {
			right = c.b.NewLabel("")
			jt = right
		}
		if mid > 1 {
			jf = bpf.Next
		}
		c.b.JumpIf(bpf.JGE, ss[mid].lo, jt, jf, comment)
		comment = ""
		if mid > 1 {
			search(ss[:mid])
		}
		if len(ss)-mid > 1 {
			c.b.Mark(right)
			search(ss[mid:])
		}
	}
	search(spans)
}

// CompileLinear compiles p in upstream's layout — a chain of number
// comparisons per promise, in promise order — as the baseline the search
// layout is measured against. It decides every call like Compile.
func CompileLinear(p *Policy) (*bpf.Program, error) {
	if p.Beneath != nil {
		return nil, fmt.Errorf("filter: the linear layout does not support Policy.Beneath")
	}
	a, err := p.arch()
	if err != nil {
		return nil, err
	}
	vs, deny, err := p.plan(a, true)
	if err != nil {
		return nil, err
	}
	c := &codegen{pid: p.pid()}
	b := &c.b
	b.LoadAbs(offArch, "arch")
	native := b.NewLabel("")
	b.JumpIf(bpf.JEQ, a.Audit, native, bpf.Next, "")
	b.Ret(retForeign, "foreign architecture")
	b.Mark(native)
	b.LoadAbs(offNr, "")
	enosys := b.NewLabel("")
	b.JumpIf(bpf.JGE, firstUnknown, enosys, bpf.Next, "")
	after := b.NewLabel("")
	for i, n := range enosysCalls {
		nr, _ := a.Number(n)
		next := bpf.Next
		if i == len(enosysCalls)-1 {
			next = after
		}
		b.JumpIf(bpf.JEQ, nr, enosys, next, n)
	}
	b.Mark(enosys)
	b.Ret(retENOSYS, "ENOSYS")
	b.Mark(after)
	if nr, ok := a.Number("exit_group"); ok && vs[nr].ret == retEPERM && !vs[nr].check {
		skip := b.NewLabel("")
		b.JumpIf(bpf.JEQ, nr, bpf.Next, skip, "exit_group")
		b.Ret(retEPERM, "")
		b.Mark(skip)
	}
	// Blocks in promise order; each number is emitted in the first block
	// that grants it.
	blocks := [][]promise.Entry{promise.Default}
	for _, pr := range p.Promises.Promises() {
		blocks = append(blocks, promise.Entries(pr))
	}
	if p.Runtime {
		blocks = append(blocks, promise.Runtime)
	}
	done := map[uint32]bool{}
	for _, es := range blocks {
		var plain, checked []uint32
		for _, e := range es {
			nr, ok := a.Number(e.Syscall)
			if !ok || done[nr] || int(nr) >= len(vs) {
				continue
			}
			done[nr] = true
			switch v := vs[nr]; {
			case v.check:
				checked = append(checked, nr)
			case v.ret == retAllow:
				plain = append(plain, nr)
			}
		}
		if len(plain) > 0 {
			allow := b.NewLabel("")
			skip := b.NewLabel("")
			for i, nr := range plain {
				next := bpf.Next
				if i == len(plain)-1 {
					next = skip
				}
				b.JumpIf(bpf.JEQ, nr, allow, next, vs[nr].name)
			}
			b.Mark(allow)
			b.Ret(retAllow, "")
			b.Mark(skip)
		}
		for _, nr := range checked {
			allow := b.NewLabel("")
			fail := b.NewLabel("")
			cont := b.NewLabel("")
			b.JumpIf(bpf.JEQ, nr, bpf.Next, cont, vs[nr].name)
			c.gen(vs[nr].rule, allow, fail, offNr, "")
			b.Mark(allow)
			b.Ret(retAllow, "")
			b.Mark(fail)
			b.LoadAbs(offNr, "")
			b.Mark(cont)
		}
	}
	b.Ret(deny, "penalty")
	return b.Assemble()
}

// Listing describes a compiled program for people: a header, then the
// instructions with labels and comments.
func Listing(p *Policy, prog *bpf.Program) string {
	a, _ := p.arch()
	var sb strings.Builder
	deny, _ := p.DenyAction()
	fmt.Fprintf(&sb, "; vow seccomp filter for pledge(%q)\n", p.Promises.String())
	fmt.Fprintf(&sb, "; arch %s, violations: %s, %d instructions\n", a.Kernel, Describe(deny), len(prog.Insns))
	if p.Runtime {
		sb.WriteString("; includes the Go runtime's own needs (in-process pledge)\n")
	}
	prog.WriteListing(&sb)
	return sb.String()
}
