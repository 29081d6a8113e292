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
	// One allocation: first[i] is the earliest instruction that can go to
	// i (i itself when none can; -1 when i must stay: it is the entry, or
	// something other than a jump falls into it); to[i] is the stand-in
	// of a removed return, else -1; pos[i] is i's new position.
	buf := make([]int32, 3*n+1)
	first, to, pos := buf[:n], buf[n:2*n], buf[2*n:]
	for i := range first {
		first[i] = int32(i)
	}
	first[0] = -1
	reach := func(from, t int) {
		if t < n && first[t] >= 0 && int32(from) < first[t] {
			first[t] = int32(from)
		}
	}
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
				first[i+1] = -1
			}
		}
	}
	// Backwards: the nearest kept return of each verdict after i stands
	// in for i when every jump to i reaches it. Programs have a handful
	// of verdicts.
	var kept [8]struct {
		ret unix.SockFilter
		at  int32
	}
	nkept, removed := 0, 0
	for i := n - 1; i >= 0; i-- {
		to[i] = -1
		in := insns[i]
		if !isRet(in) {
			continue
		}
		k := -1
		for j := 0; j < nkept; j++ {
			if kept[j].ret == in {
				k = j
				break
			}
		}
		if k >= 0 && first[i] >= 0 && int(kept[k].at)-int(first[i])-1 <= 255 {
			to[i] = kept[k].at
			removed++
			continue
		}
		switch {
		case k >= 0:
			kept[k].at = int32(i)
		case nkept < len(kept):
			kept[nkept].ret, kept[nkept].at = in, int32(i)
			nkept++
		}
	}
	if removed == 0 {
		return
	}
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
	annotated := false
	for _, c := range p.Comments {
		if c != "" {
			annotated = true
			break
		}
	}
	var labels map[int]string
	if len(p.Labels) > 0 {
		labels = make(map[int]string, len(p.Labels))
	}
	// In place: every instruction moves down, if at all.
	for i := 0; i < n; i++ {
		if to[i] >= 0 {
			continue
		}
		in := insns[i]
		here := pos[i]
		c := ""
		if annotated {
			c = p.Comments[i]
		}
		switch {
		case isRet(in):
		case in.Code&0x07 == unix.BPF_JMP && in.Code&0xf0 == unix.BPF_JA:
			in.K = uint32(target(i+1+int(in.K)) - here - 1)
		case in.Code&0x07 == unix.BPF_JMP:
			tt, tf := i+1+int(in.Jt), i+1+int(in.Jf)
			if annotated {
				c = branchNote(c, "jt", p.Comments, to, tt)
				if tf != tt {
					c = branchNote(c, "jf", p.Comments, to, tf)
				}
			}
			in.Jt = uint8(target(tt) - here - 1)
			in.Jf = uint8(target(tf) - here - 1)
		}
		insns[here] = in
		if annotated {
			p.Comments[here] = c
		}
		if name, ok := p.Labels[i]; ok {
			labels[int(here)] = name
		}
	}
	p.Insns = insns[:next]
	if p.Comments != nil {
		p.Comments = p.Comments[:next]
	}
	if labels != nil {
		p.Labels = labels
	}
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
