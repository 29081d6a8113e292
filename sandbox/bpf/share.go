package bpf

import "golang.org/x/sys/unix"

// ShareReturns removes every return instruction that another, identical
// one later in the program can stand in for: the jumps that led to it go
// to that one instead. A run executes the same number of instructions
// (a jump, then a return), the verdicts are unchanged, and the program
// gets shorter: a search tree has a return at nearly every leaf, but only
// a handful of distinct verdicts. The kernel's cost of installing a
// filter (validation, conversion, JIT) grows with its length.
//
// A return stays where an instruction other than a jump or a return runs
// into it, and where some jump to it could not reach the stand-in with an
// 8-bit offset. The comment of a removed return is appended to those of
// the conditional jumps that led to it, as "(jt → …)" or "(jf → …)", so
// listings still say what each branch decides; labels on it are dropped.
func (p *Program) ShareReturns() {
	insns := p.Insns
	n := len(insns)
	if n < 2 {
		return
	}
	// first[i]: the earliest instruction that can go to i (i itself when
	// none can but by falling through from a non-jump).
	first := make([]int32, n)
	for i := range first {
		first[i] = int32(i)
	}
	reach := func(from, to int) {
		if to < n && int32(from) < first[to] {
			first[to] = int32(from)
		}
	}
	blocked := make([]bool, n) // the entry, or something other than a jump falls into i
	blocked[0] = true
	for i, in := range insns {
		switch {
		case isRet(in):
		case in.Code&0x07 == unix.BPF_JMP && in.Code&0xf0 == unix.BPF_JA:
			reach(i, i+1+int(in.K))
		case in.Code&0x07 == unix.BPF_JMP:
			reach(i, i+1+int(in.Jt))
			reach(i, i+1+int(in.Jf))
		default:
			if i+1 < n {
				blocked[i+1] = true
			}
		}
	}
	// Backwards: the nearest kept return of each verdict after i stands
	// in for i when every jump to i reaches it.
	to := make([]int32, n) // the stand-in of a removed return, else -1
	var kept []struct {
		ret unix.SockFilter
		at  int32
	}
	removed := 0
	for i := n - 1; i >= 0; i-- {
		to[i] = -1
		in := insns[i]
		if !isRet(in) {
			continue
		}
		k := -1
		for j := range kept {
			if kept[j].ret == in {
				k = j
				break
			}
		}
		if k >= 0 && !blocked[i] && int(kept[k].at)-int(first[i])-1 <= 255 {
			to[i] = kept[k].at
			removed++
			continue
		}
		if k >= 0 {
			kept[k].at = int32(i)
		} else {
			kept = append(kept, struct {
				ret unix.SockFilter
				at  int32
			}{in, int32(i)})
		}
	}
	if removed == 0 {
		return
	}
	// New positions, then the jumps retargeted.
	pos := make([]int32, n+1)
	next := int32(0)
	for i := 0; i < n; i++ {
		pos[i] = next
		if to[i] < 0 {
			next++
		}
	}
	pos[n] = next
	target := func(t int) int32 {
		if t < n && to[t] >= 0 {
			return pos[to[t]]
		}
		return pos[t]
	}
	out := make([]unix.SockFilter, 0, n-removed)
	var comments []string
	if p.Comments != nil {
		comments = make([]string, 0, n-removed)
	}
	labels := make(map[int]string, len(p.Labels))
	for i, in := range insns {
		if to[i] >= 0 {
			continue
		}
		here := pos[i]
		c := ""
		if p.Comments != nil {
			c = p.Comments[i]
		}
		switch {
		case isRet(in):
		case in.Code&0x07 == unix.BPF_JMP && in.Code&0xf0 == unix.BPF_JA:
			in.K = uint32(target(i+1+int(in.K)) - here - 1)
		case in.Code&0x07 == unix.BPF_JMP:
			tt, tf := i+1+int(in.Jt), i+1+int(in.Jf)
			if p.Comments != nil {
				c = branchNote(c, "jt", p.Comments, to, tt)
				if tf != tt {
					c = branchNote(c, "jf", p.Comments, to, tf)
				}
			}
			in.Jt = uint8(target(tt) - here - 1)
			in.Jf = uint8(target(tf) - here - 1)
		}
		out = append(out, in)
		if comments != nil {
			comments = append(comments, c)
		}
		if name, ok := p.Labels[i]; ok {
			labels[int(here)] = name
		}
	}
	p.Insns, p.Comments, p.Labels = out, comments, labels
}

// branchNote appends the comment of the removed return t, if it is one
// and has a comment, to c.
func branchNote(c, branch string, comments []string, to []int32, t int) string {
	if t >= len(to) || to[t] < 0 || comments[t] == "" {
		return c
	}
	note := "(" + branch + " → " + comments[t] + ")"
	if c == "" {
		return note
	}
	return c + " " + note
}

func isRet(in unix.SockFilter) bool { return in.Code&0x07 == unix.BPF_RET }
