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
	ret   uint32       // constant verdict, when !check; else the deny action
	check bool         // arguments decide: rule, then allow, else deny
	rule  promise.Rule // the merged rule when check
}

// planner decides the verdict of each number for one policy.
type planner struct {
	ix       *archIndex
	deny     uint32
	granted  uint32 // the sources the policy grants
	below    uint32 // the sources granted beneath, when beneath
	beneath  bool
	softExit bool // exit_group fails with EPERM (empty promises)
}

func (p *Policy) planner(a *sysno.Arch) (planner, error) {
	deny, err := p.DenyAction()
	if err != nil {
		return planner{}, err
	}
	pl := planner{ix: indexFor(a), deny: deny, granted: p.sources(), softExit: p.Promises.Empty() && !p.Runtime}
	if p.Beneath != nil {
		pl.beneath = true
		pl.below = (&Policy{Promises: *p.Beneath, Runtime: true}).sources()
	}
	return pl, nil
}

// decide returns the verdict of number nr (below firstUnknown) and, for
// listings, the sources granting it or why the pre-filter forces it.
func (pl *planner) decide(nr uint32) (v verdict, srcs uint32, why string) {
	n := &pl.ix.nrs[nr]
	switch {
	case n.forced == forcedENOSYS:
		return verdict{ret: retENOSYS}, 0, "forced ENOSYS"
	case n.forced == forcedExitGroup && pl.softExit:
		return verdict{ret: retEPERM}, 0, "empty promises: soft EPERM"
	}
	if !pl.beneath { // merge's answers for most numbers, without the call
		switch srcs := pl.granted & n.all; {
		case srcs == 0:
			return verdict{ret: pl.deny}, 0, ""
		case srcs&n.free != 0:
			return verdict{ret: retAllow}, srcs, ""
		}
	}
	m, srcs := pl.ix.merge(nr, pl.granted)
	if pl.beneath {
		m = deferTo(m, pl.ix, nr, pl.below)
	}
	switch {
	case !m.ok:
		return verdict{ret: pl.deny}, srcs, ""
	case m.rule == nil:
		return verdict{ret: retAllow}, srcs, ""
	}
	return verdict{ret: pl.deny, check: true, rule: m.rule}, srcs, ""
}

// plan computes the verdict of every number below firstUnknown.
func (p *Policy) plan(a *sysno.Arch) ([]verdict, uint32, error) {
	pl, err := p.planner(a)
	if err != nil {
		return nil, 0, err
	}
	vs := make([]verdict, firstUnknown)
	for nr := range vs {
		vs[nr], _, _ = pl.decide(uint32(nr))
	}
	return vs, pl.deny, nil
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

// segments splits the numbers into segments, ranges with one verdict: an
// argument-checked call alone, a run of numbers with the same constant
// verdict, and everything from firstUnknown up. It returns the first
// number of each, ascending (the code for a segment decides its verdict
// again), and how many check arguments; with annotate also a note for
// each.
func (pl *planner) segments(annotate bool) (los []uint32, notes []segNote, checked int) {
	los = make([]uint32, 0, 160) // 100-140 for the usual sets
	if annotate {
		notes = make([]segNote, 0, cap(los))
	}
	var last verdict // of the last segment
	for nr := uint32(0); nr < firstUnknown; nr++ {
		v, srcs, why := pl.decide(nr)
		var name string
		var from []string
		if annotate {
			name = pl.ix.arch.SyscallName(nr)
			switch {
			case why != "":
				from = []string{why}
			case srcs != 0:
				from = sourceNames(srcs)
			}
		}
		if len(los) > 0 && !v.check && !last.check && last.ret == v.ret {
			if annotate {
				note := &notes[len(notes)-1]
				if !slices.Equal(note.from, from) {
					note.mixed = true
				}
				if name != "" {
					note.names = append(note.names, name)
				}
			}
			continue
		}
		los, last = append(los, nr), v
		if v.check {
			checked++
		}
		if annotate {
			note := segNote{name: name, from: from}
			if name != "" {
				note.names = append(make([]string, 0, 4), name)
			}
			notes = append(notes, note)
		}
	}
	// Everything from firstUnknown up — later system calls, x32 numbers,
	// -1 — is ENOSYS.
	if last.ret != retENOSYS || last.check {
		los = append(los, firstUnknown)
		if annotate {
			notes = append(notes, segNote{})
		}
	}
	return los, notes, checked
}

// segNote tells, for listings, what a segment holds.
type segNote struct {
	name  string   // the system call of the first number ("" for none)
	from  []string // what grants the first number
	names []string // the system calls in the segment
	mixed bool     // the numbers are granted by different promises
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
	pl, err := p.planner(a)
	if err != nil {
		return nil, err
	}
	los, notes, checked := pl.segments(annotate)
	c := &codegen{p: p, pl: pl, annotate: annotate}
	b := &c.b
	// The search takes two instructions and a label per segment, a
	// checked call's rule about 8 instructions and 5 labels (17 and 9 at
	// most with the table now): room enough that nothing is reallocated.
	b.Grow(2*len(los) + 16*checked + 8)
	b.GrowLabels(len(los) + 9*checked + 8)
	b.LoadAbs(offArch, "arch")
	native := b.NewLabel("")
	b.JumpIf(bpf.JEQ, a.Audit, native, bpf.Next, pl.ix.audit)
	b.Ret(retForeign, "foreign architecture: kill-process")
	b.Mark(native)
	b.LoadAbs(offNr, "syscall number")
	c.tree(los, ^uint32(0), notes)
	prog, err := b.Assemble()
	if err != nil {
		return prog, fmt.Errorf("filter: compiling %q: %w", p.Promises, err)
	}
	// The tree's leaves are returns of a few verdicts: one of each
	// within jump range does (about 40% fewer instructions to install).
	prog.ShareReturns()
	return prog, nil
}

// codegen emits rules and searches into a bpf.Builder.
type codegen struct {
	b        bpf.Builder
	p        *Policy
	pl       planner // deciding the segments' verdicts
	pid      uint32  // p.pid(), once a rule needed it
	annotate bool    // write comments (costs most of the compile time)
}

// selfPID returns the process id the self-only rules compare with.
func (c *codegen) selfPID() uint32 {
	if c.pid == 0 {
		c.pid = c.p.pid()
	}
	return c.pid
}

// tree emits a binary search over the segments starting at los, the last
// ending at hi, whose leaves are the verdicts; notes, when annotating, are
// the segments' notes.
func (c *codegen) tree(los []uint32, hi uint32, notes []segNote) {
	if len(los) == 1 {
		var note *segNote
		if notes != nil {
			note = &notes[0]
		}
		c.leaf(los[0], hi, note)
		return
	}
	mid := len(los) / 2
	right := c.b.NewLabel("")
	c.b.JumpIf(bpf.JGE, los[mid], right, bpf.Next, "")
	left, rest := notes, notes
	if notes != nil {
		left, rest = notes[:mid], notes[mid:]
	}
	c.tree(los[:mid], los[mid]-1, left)
	c.b.Mark(right)
	c.tree(los[mid:], hi, rest)
}

func (note *segNote) describe(lo, hi uint32) string {
	names := note.names
	more := ""
	if len(names) > 4 {
		names, more = names[:4], fmt.Sprintf(" +%d more", len(note.names)-4)
	}
	r := fmt.Sprintf("%d", lo)
	if hi != lo {
		r = fmt.Sprintf("%d-%d", lo, hi)
		if hi == ^uint32(0) {
			r = fmt.Sprintf("%d-", lo)
		}
	}
	d := r
	if len(names) > 0 {
		d += " " + strings.Join(names, " ") + more
	}
	if len(note.from) > 0 && !note.mixed {
		d += " [" + strings.Join(note.from, " ") + "]"
	}
	return d
}

// leaf emits the verdict of the segment [lo, hi]; note is its note when
// annotating.
func (c *codegen) leaf(lo, hi uint32, note *segNote) {
	v := verdict{ret: retENOSYS}
	if lo < firstUnknown {
		v, _, _ = c.pl.decide(lo)
	}
	if !v.check {
		c.b.Ret(v.ret, c.note(func() string { return Describe(v.ret) + ": " + note.describe(lo, hi) }))
		return
	}
	deny := c.b.NewLabel("")
	allow := c.b.NewLabel("")
	if c.annotate {
		c.b.Mark(c.b.NewLabel(note.name))
	}
	c.gen(v.rule, allow, deny, -1, c.note(func() string { return note.describe(lo, hi) + ": " + v.rule.String() }))
	c.b.Mark(deny)
	c.b.Ret(v.ret, c.note(func() string { return Describe(v.ret) }))
	c.b.Mark(allow)
	c.b.Ret(retAllow, c.note(func() string { return "allow " + note.name }))
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
		c.b.JumpIf(bpf.JEQ, c.selfPID(), yes, no, comment)
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
	var buf [8]bpf.Label // on the stack for up to 8 cases
	cases := buf[:0]
	for i, alt := range r {
		cases = append(cases, c.b.NewLabel(""))
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
	var buf [32]span // on the stack for up to 15 values
	spans := buf[:0]
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
	c.search(spans, yes, no, comment)
}

// span is the numbers from lo up to the next span's lo, all in a set or
// all out of it.
type span struct {
	lo uint32
	in bool
}

// search emits a binary search over spans of A's value that goes to yes
// in a span in the set and to no elsewhere.
func (c *codegen) search(ss []span, yes, no bpf.Label, comment string) {
	target := func(s span) bpf.Label {
		if s.in {
			return yes
		}
		return no
	}
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
	if mid > 1 {
		c.search(ss[:mid], yes, no, "")
	}
	if len(ss)-mid > 1 {
		c.b.Mark(right)
		c.search(ss[mid:], yes, no, "")
	}
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
	vs, deny, err := p.plan(a)
	if err != nil {
		return nil, err
	}
	c := &codegen{p: p}
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
				b.JumpIf(bpf.JEQ, nr, allow, next, a.SyscallName(nr))
			}
			b.Mark(allow)
			b.Ret(retAllow, "")
			b.Mark(skip)
		}
		for _, nr := range checked {
			allow := b.NewLabel("")
			fail := b.NewLabel("")
			cont := b.NewLabel("")
			b.JumpIf(bpf.JEQ, nr, bpf.Next, cont, a.SyscallName(nr))
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
