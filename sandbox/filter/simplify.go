package filter

import (
	"slices"

	"github.com/vow-sandbox/vow/sandbox/promise"
)

// simplify rewrites the merged rule of one system call into an equivalent
// one that is cheaper to test, running its passes to a fix-point. Each
// pass keeps the meaning; the verifier checks the result against the
// unsimplified table.
func simplify(r promise.Rule) promise.Rule {
	for {
		n := size(r)
		r = mergeNoBits(mergeCmps(dropImplied(flattenOr(r))))
		if size(r) == n {
			return r
		}
	}
}

// size counts the alternatives and compared values of a rule; every pass
// that changes a rule makes it smaller.
func size(r promise.Rule) int {
	switch r := r.(type) {
	case promise.Or:
		n := len(r)
		for _, x := range r {
			n += size(x)
		}
		return n
	case promise.And:
		n := 0
		for _, x := range r {
			n += size(x)
		}
		return n
	case promise.Cmp:
		return len(r.Values)
	}
	return 1
}

// flattenOr lifts alternatives of nested Ors into the outer Or.
func flattenOr(r promise.Rule) promise.Rule {
	or, ok := r.(promise.Or)
	if !ok {
		return r
	}
	var out promise.Or
	for _, alt := range or {
		if inner, ok := alt.(promise.Or); ok {
			out = append(out, inner...)
		} else {
			out = append(out, alt)
		}
	}
	return single(out)
}

// dropImplied removes an alternative that implies another one (x → y
// makes x ∨ y = y), which also removes duplicates, such as the same
// setsockopt rule granted by four promises.
func dropImplied(r promise.Rule) promise.Rule {
	or, ok := r.(promise.Or)
	if !ok {
		return r
	}
	var out promise.Or
	for i, x := range or {
		redundant := false
		for j, y := range or {
			if i == j {
				continue
			}
			// Of two equivalent alternatives keep the first.
			if implies(x, y) && (!implies(y, x) || j < i) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, x)
		}
	}
	return single(out)
}

// mergeCmps joins alternatives that compare the same masked argument into
// one comparison with the union of their values.
func mergeCmps(r promise.Rule) promise.Rule {
	or, ok := r.(promise.Or)
	if !ok {
		return r
	}
	var out promise.Or
	for _, alt := range or {
		c, ok := alt.(promise.Cmp)
		merged := false
		if ok {
			for k, prev := range out {
				if p, ok := prev.(promise.Cmp); ok && p.Arg == c.Arg && p.Mask == c.Mask {
					out[k] = promise.MaskIn(p.Arg, p.Mask, append(slices.Clone(p.Values), c.Values...)...)
					merged = true
					break
				}
			}
		}
		if !merged {
			out = append(out, alt)
		}
	}
	return single(out)
}

// mergeNoBits joins tests that none of some bits are set in the same
// argument, inside a conjunction: (a&m1)==0 && (a&m2)==0 is
// (a&(m1|m2))==0, one JSET instead of several.
func mergeNoBits(r promise.Rule) promise.Rule {
	if !joinsNoBits(r) {
		return r
	}
	switch r := r.(type) {
	case promise.Or:
		out := make(promise.Or, len(r))
		for i, alt := range r {
			out[i] = mergeNoBits(alt)
		}
		return out
	case promise.And:
		var out promise.And
		var at [len(promise.Args{})]int // argument -> 1 + index in out of its merged test
		for _, x := range r {
			c, ok := x.(promise.Cmp)
			if !ok || len(c.Values) != 1 || c.Values[0] != 0 {
				out = append(out, mergeNoBits(x))
				continue
			}
			if i := at[c.Arg] - 1; i >= 0 {
				out[i] = promise.NoBits(c.Arg, out[i].(promise.Cmp).Mask|c.Mask)
				continue
			}
			at[c.Arg] = len(out) + 1
			out = append(out, c)
		}
		if len(out) == 1 {
			return out[0]
		}
		return out
	}
	return r
}

// joinsNoBits reports whether mergeNoBits changes r: some conjunction in
// it has two no-bits tests of one argument, or a single term.
func joinsNoBits(r promise.Rule) bool {
	switch r := r.(type) {
	case promise.Or:
		return slices.ContainsFunc(r, joinsNoBits)
	case promise.And:
		if len(r) == 1 {
			return true
		}
		var seen [len(promise.Args{})]bool
		for _, x := range r {
			c, ok := x.(promise.Cmp)
			if !ok || len(c.Values) != 1 || c.Values[0] != 0 {
				if joinsNoBits(x) {
					return true
				}
				continue
			}
			if seen[c.Arg] {
				return true
			}
			seen[c.Arg] = true
		}
	}
	return false
}

func single(or promise.Or) promise.Rule {
	if len(or) == 1 {
		return or[0]
	}
	return or
}

// implies reports whether x holding guarantees that y holds. It answers
// for comparisons and conjunctions of them and is false when unsure.
func implies(x, y promise.Rule) bool {
	switch y := y.(type) {
	case promise.And:
		for _, yi := range y {
			if !implies(x, yi) {
				return false
			}
		}
		return true
	case promise.Cmp:
		switch x := x.(type) {
		case promise.Cmp:
			return x.Arg == y.Arg && x.Mask == y.Mask && subset(x.Values, y.Values)
		case promise.And:
			for _, xi := range x {
				if implies(xi, y) {
					return true
				}
			}
		}
		return false
	}
	return equal(x, y)
}

// equal compares rules that are neither And nor Cmp.
func equal(x, y promise.Rule) bool {
	switch x := x.(type) {
	case promise.Null:
		y, ok := y.(promise.Null)
		return ok && x == y
	case promise.SelfPID:
		y, ok := y.(promise.SelfPID)
		return ok && x == y
	}
	return false
}

func subset(a, b []uint32) bool {
	for _, v := range a {
		if !slices.Contains(b, v) {
			return false
		}
	}
	return true
}
