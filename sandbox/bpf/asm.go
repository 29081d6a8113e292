// Package bpf is a small classic-BPF toolkit with no seccomp policy in it:
// a program builder with symbolic labels that resolves 8-bit jump offsets
// (inserting long jumps where a target is too far), an interpreter that
// reports what a run did, a validator with the kernel's rules for seccomp
// programs, and a listing format.
//
// Instructions are golang.org/x/sys/unix.SockFilter values, the kernel's
// struct sock_filter.
package bpf

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// MaxInstructions is the kernel's limit on one program (BPF_MAXINSNS).
const MaxInstructions = 4096

// Cond is the condition of a conditional jump.
type Cond uint16

// The conditions of conditional jumps; all compare the accumulator with
// the constant K, unsigned.
const (
	JEQ  Cond = unix.BPF_JEQ  // A == K
	JGT  Cond = unix.BPF_JGT  // A > K
	JGE  Cond = unix.BPF_JGE  // A >= K
	JSET Cond = unix.BPF_JSET // A & K != 0
)

// Label names a place in a program being built. The zero Label means "the
// next instruction".
type Label struct{ id int32 }

// Next is the zero Label: a jump to Next falls through.
var Next Label

// IsNext reports whether l is the fall-through label.
func (l Label) IsNext() bool { return l.id == 0 }

// Builder assembles a program from instructions whose jumps name labels.
// Jumps may only go forward, as in every classic BPF program.
type Builder struct {
	insns    []pending
	comments []comment // the non-empty comments, in instruction order
	marks    []int     // label id -> index of the instruction it marks, -1 if none
	names    []string  // label id -> name; labels past its end have none
}

type pending struct {
	ins    unix.SockFilter
	jt, jf Label // conditional jumps
	ja     Label // BPF_JA
}

// comment is the comment of instruction at, kept apart from the
// instructions, most of which have none.
type comment struct {
	at   int
	text string
}

// NewLabel returns a fresh label; name is shown in listings (it may be
// empty, then the label gets a number).
func (b *Builder) NewLabel(name string) Label {
	if b.marks == nil {
		b.marks = append(make([]int, 0, 16), -1) // id 0 is Next
	}
	b.marks = append(b.marks, -1)
	id := len(b.marks) - 1
	if name != "" {
		for len(b.names) < id {
			b.names = append(b.names, "")
		}
		b.names = append(b.names, name)
	}
	return Label{int32(id)}
}

// name returns the name of label id ("" for none).
func (b *Builder) name(id int32) string {
	if int(id) < len(b.names) {
		return b.names[id]
	}
	return ""
}

// Mark places l at the next instruction to be added.
func (b *Builder) Mark(l Label) {
	if l.IsNext() {
		return
	}
	if b.marks[l.id] >= 0 {
		panic(fmt.Sprintf("bug: bpf label %d marked twice", l.id))
	}
	b.marks[l.id] = len(b.insns)
}

// Grow makes room for n more instructions, to avoid reallocations while
// building a program of a known size.
func (b *Builder) Grow(n int) {
	b.insns = append(make([]pending, 0, len(b.insns)+n), b.insns...)
}

// GrowLabels makes room for n more labels.
func (b *Builder) GrowLabels(n int) {
	if b.marks == nil {
		b.marks = append(make([]int, 0, 1+n), -1) // id 0 is Next
		return
	}
	b.marks = append(make([]int, 0, len(b.marks)+n), b.marks...)
}

func (b *Builder) add(p pending, c string) {
	if c != "" {
		if b.comments == nil {
			b.comments = make([]comment, 0, 16) // one allocation when few
		}
		b.comments = append(b.comments, comment{len(b.insns), c})
	}
	b.insns = append(b.insns, p)
}

// LoadAbs loads the 32-bit word at offset off of the input into A.
func (b *Builder) LoadAbs(off uint32, comment string) {
	b.add(pending{ins: unix.SockFilter{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off}}, comment)
}

// And sets A to A & k.
func (b *Builder) And(k uint32, comment string) {
	b.add(pending{ins: unix.SockFilter{Code: unix.BPF_ALU | unix.BPF_AND | unix.BPF_K, K: k}}, comment)
}

// JumpIf jumps to jt when A cond k holds, else to jf.
func (b *Builder) JumpIf(cond Cond, k uint32, jt, jf Label, comment string) {
	b.add(pending{ins: unix.SockFilter{Code: unix.BPF_JMP | uint16(cond) | unix.BPF_K, K: k}, jt: jt, jf: jf}, comment)
}

// Jump jumps to l unconditionally.
func (b *Builder) Jump(l Label, comment string) {
	b.add(pending{ins: unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA}, ja: l}, comment)
}

// Ret returns k.
func (b *Builder) Ret(k uint32, comment string) {
	b.add(pending{ins: unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: k}}, comment)
}

// Program is an assembled program with its listing annotations.
type Program struct {
	Insns []unix.SockFilter
	// Comments holds one comment per instruction ("" for none).
	Comments []string
	// Labels names the instructions that are jump targets of named labels.
	Labels map[int]string
}

// ErrTooLong is returned when a program exceeds MaxInstructions.
var ErrTooLong = errors.New("bpf: program longer than the kernel's 4096 instructions")

// Assemble resolves labels into jump offsets. A conditional jump whose
// target is more than 255 instructions away goes through an inserted
// unconditional jump placed right after it.
func (b *Builder) Assemble() (*Program, error) {
	n := len(b.insns)
	for _, in := range b.insns {
		for _, l := range [...]Label{in.jt, in.jf, in.ja} {
			if !l.IsNext() && b.marks[l.id] < 0 {
				return nil, fmt.Errorf("bug: bpf label %q used but never marked", b.name(l.id))
			}
		}
	}
	// pos[i] is the position of instruction i and pos[n] the end. It
	// stays nil, every instruction at its index, unless some jump needs a
	// trampoline (most programs have none). long[i] is how many
	// trampolines follow instruction i (0, 1 or 2).
	var pos []int
	var long []uint8
	for {
		changed := false
		for i, in := range b.insns {
			if in.ins.Code&0x07 != unix.BPF_JMP || in.ins.Code&0xf0 == unix.BPF_JA {
				continue
			}
			need := uint8(0)
			for _, l := range [...]Label{in.jt, in.jf} {
				if d := b.target(l, i, pos) - (at(pos, i) + 1); d > 255 {
					need++
				}
			}
			if need == 0 {
				continue
			}
			if long == nil {
				long = make([]uint8, n)
			}
			if need > long[i] {
				long[i] = need
				changed = true
			}
		}
		if !changed {
			break
		}
		if pos == nil {
			pos = make([]int, n+1)
		}
		p := 0
		for i := 0; i < n; i++ {
			pos[i] = p
			p += 1 + int(long[i])
		}
		pos[n] = p
	}
	end := at(pos, n)
	prog := &Program{Labels: map[int]string{}, Insns: make([]unix.SockFilter, end), Comments: make([]string, end)}
	for i, in := range b.insns {
		here := at(pos, i)
		f := in.ins
		switch {
		case f.Code&0x07 == unix.BPF_JMP && f.Code&0xf0 == unix.BPF_JA:
			t := b.target(in.ja, i, pos)
			if t < here+1 {
				return nil, fmt.Errorf("bug: bpf backward jump at %d", i)
			}
			f.K = uint32(t - here - 1)
		case f.Code&0x07 == unix.BPF_JMP:
			tramp := here + 1 // next free trampoline slot
			for j, l := range [...]Label{in.jt, in.jf} {
				t := b.target(l, i, pos)
				d := t - (here + 1)
				if d < 0 {
					return nil, fmt.Errorf("bug: bpf backward jump at %d", i)
				}
				if d > 255 {
					d = tramp - (here + 1)
					prog.Insns[tramp] = unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA, K: uint32(t - tramp - 1)}
					prog.Comments[tramp] = "long jump"
					tramp++
				}
				if j == 0 {
					f.Jt = uint8(d)
				} else {
					f.Jf = uint8(d)
				}
			}
		}
		prog.Insns[here] = f
	}
	for _, c := range b.comments {
		prog.Comments[at(pos, c.at)] = c.text
	}
	for id, name := range b.names {
		if idx := b.marks[id]; name != "" && idx >= 0 && idx < n {
			prog.Labels[at(pos, idx)] = name
		}
	}
	if len(prog.Insns) > MaxInstructions {
		return prog, ErrTooLong
	}
	return prog, nil
}

// at returns the position of instruction i in the layout pos (nil: i).
func at(pos []int, i int) int {
	if pos == nil {
		return i
	}
	return pos[i]
}

// target returns the position a label refers to, from instruction i.
func (b *Builder) target(l Label, i int, pos []int) int {
	if l.IsNext() {
		return at(pos, i+1) // fall through to the next original instruction
	}
	return at(pos, b.marks[l.id])
}
