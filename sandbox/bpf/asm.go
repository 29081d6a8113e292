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
type Label struct{ id int }

// Next is the zero Label: a jump to Next falls through.
var Next Label

// IsNext reports whether l is the fall-through label.
func (l Label) IsNext() bool { return l.id == 0 }

// Builder assembles a program from instructions whose jumps name labels.
// Jumps may only go forward, as in every classic BPF program.
type Builder struct {
	insns []pending
	marks []int    // label id -> index of the instruction it marks, -1 if none
	names []string // label id -> name
}

type pending struct {
	ins     unix.SockFilter
	jt, jf  Label // conditional jumps
	ja      Label // BPF_JA
	comment string
}

// NewLabel returns a fresh label; name is shown in listings (it may be
// empty, then the label gets a number).
func (b *Builder) NewLabel(name string) Label {
	if b.names == nil {
		b.names, b.marks = []string{""}, []int{-1} // id 0 is Next
	}
	b.names = append(b.names, name)
	b.marks = append(b.marks, -1)
	return Label{len(b.names) - 1}
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

func (b *Builder) add(p pending) { b.insns = append(b.insns, p) }

// LoadAbs loads the 32-bit word at offset off of the input into A.
func (b *Builder) LoadAbs(off uint32, comment string) {
	b.add(pending{ins: unix.SockFilter{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off}, comment: comment})
}

// And sets A to A & k.
func (b *Builder) And(k uint32, comment string) {
	b.add(pending{ins: unix.SockFilter{Code: unix.BPF_ALU | unix.BPF_AND | unix.BPF_K, K: k}, comment: comment})
}

// JumpIf jumps to jt when A cond k holds, else to jf.
func (b *Builder) JumpIf(cond Cond, k uint32, jt, jf Label, comment string) {
	b.add(pending{ins: unix.SockFilter{Code: unix.BPF_JMP | uint16(cond) | unix.BPF_K, K: k}, jt: jt, jf: jf, comment: comment})
}

// Jump jumps to l unconditionally.
func (b *Builder) Jump(l Label, comment string) {
	b.add(pending{ins: unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA}, ja: l, comment: comment})
}

// Ret returns k.
func (b *Builder) Ret(k uint32, comment string) {
	b.add(pending{ins: unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: k}, comment: comment})
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
		for _, l := range []Label{in.jt, in.jf, in.ja} {
			if !l.IsNext() && b.marks[l.id] < 0 {
				return nil, fmt.Errorf("bug: bpf label %q used but never marked", b.names[l.id])
			}
		}
	}
	// long[i] = how many trampolines follow instruction i (0, 1 or 2).
	long := make([]int, n)
	var pos []int
	for {
		// Layout: position of each original instruction.
		pos = make([]int, n+1)
		p := 0
		for i := 0; i < n; i++ {
			pos[i] = p
			p += 1 + long[i]
		}
		pos[n] = p
		changed := false
		for i, in := range b.insns {
			if in.ins.Code&0x07 != unix.BPF_JMP || in.ins.Code&0xf0 == unix.BPF_JA {
				continue
			}
			need := 0
			for _, l := range []Label{in.jt, in.jf} {
				if d := b.target(l, i, pos) - (pos[i] + 1); d > 255 {
					need++
				}
			}
			if need > long[i] {
				long[i] = need
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	prog := &Program{Labels: map[int]string{}, Insns: make([]unix.SockFilter, 0, pos[n]), Comments: make([]string, 0, pos[n])}
	emit := func(f unix.SockFilter, c string) {
		prog.Insns = append(prog.Insns, f)
		prog.Comments = append(prog.Comments, c)
	}
	for i, in := range b.insns {
		here := pos[i]
		f := in.ins
		switch {
		case f.Code&0x07 == unix.BPF_JMP && f.Code&0xf0 == unix.BPF_JA:
			t := b.target(in.ja, i, pos)
			if t < here+1 {
				return nil, fmt.Errorf("bug: bpf backward jump at %d", i)
			}
			f.K = uint32(t - here - 1)
			emit(f, in.comment)
		case f.Code&0x07 == unix.BPF_JMP:
			tramp := here + 1 // next free trampoline slot
			var ts []int
			for j, l := range []Label{in.jt, in.jf} {
				t := b.target(l, i, pos)
				d := t - (here + 1)
				if d < 0 {
					return nil, fmt.Errorf("bug: bpf backward jump at %d", i)
				}
				if d > 255 {
					d = tramp - (here + 1)
					tramp++
					ts = append(ts, t)
				}
				if j == 0 {
					f.Jt = uint8(d)
				} else {
					f.Jf = uint8(d)
				}
			}
			emit(f, in.comment)
			for k, t := range ts {
				at := here + 1 + k
				emit(unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA, K: uint32(t - at - 1)}, "long jump")
			}
		default:
			emit(f, in.comment)
		}
	}
	for id, idx := range b.marks {
		if name := b.names[id]; name != "" && idx >= 0 && idx < n {
			prog.Labels[pos[idx]] = name
		}
	}
	if len(prog.Insns) > MaxInstructions {
		return prog, ErrTooLong
	}
	return prog, nil
}

// target returns the position a label refers to, from instruction i.
func (b *Builder) target(l Label, i int, pos []int) int {
	if l.IsNext() {
		return pos[i+1] // fall through to the next original instruction
	}
	return pos[b.marks[l.id]]
}
