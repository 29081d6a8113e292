package filter

import (
	"math/rand"
	"testing"

	"github.com/vow-sandbox/vow/sandbox/promise"
)

func TestSimplifyPasses(t *testing.T) {
	eq := promise.Eq
	in := promise.In
	nb := promise.NoBits
	tests := []struct {
		name   string
		pass   func(promise.Rule) promise.Rule
		before promise.Rule
		after  string
	}{
		{"flattenOr lifts nested alternatives", flattenOr,
			promise.Or{eq(0, 1), promise.Or{eq(0, 2), eq(1, 3)}}, "arg0 == 0x1 || arg0 == 0x2 || arg1 == 0x3"},
		{"dropImplied removes duplicates", dropImplied,
			promise.Or{in(1, 1, 2), in(1, 1, 2)}, "arg1 in {0x1,0x2}"},
		{"dropImplied removes a narrower alternative", dropImplied,
			promise.Or{promise.And{eq(0, 2), eq(1, 1)}, promise.And{in(0, 2, 10), in(1, 1, 2)}},
			"arg0 in {0x2,0xa} && arg1 in {0x1,0x2}"},
		{"dropImplied: y or (y and z) is y", dropImplied,
			promise.Or{promise.And{promise.AllBits(0, 0x10f00), nb(0, 0x2000)}, nb(0, 0x2000)}, "arg0&0x2000 == 0x0"},
		{"dropImplied keeps independent alternatives", dropImplied,
			promise.Or{eq(0, 1), eq(1, 1)}, "arg0 == 0x1 || arg1 == 0x1"},
		{"mergeCmps unions values of one masked argument", mergeCmps,
			promise.Or{in(1, 0, 1, 2, 3, 4, 1030), in(1, 5, 6, 7)}, "arg1 in {0x0,0x1,0x2,0x3,0x4,0x5,0x6,0x7,0x406}"},
		{"mergeCmps leaves other masks alone", mergeCmps,
			promise.Or{promise.MaskIn(1, 3, 0), in(1, 5)}, "arg1&0x3 == 0x0 || arg1 == 0x5"},
		{"mergeNoBits joins bit tests of one argument", mergeNoBits,
			promise.And{nb(1, 0x3), eq(2, 7), nb(1, 0x200), nb(1, 0x400040)}, "arg1&0x400243 == 0x0 && arg2 == 0x7"},
		{"mergeNoBits works inside alternatives", mergeNoBits,
			promise.Or{promise.And{nb(0, 1), nb(0, 2)}, eq(3, 0)}, "arg0&0x3 == 0x0 || arg3 == 0x0"},
	}
	for _, tt := range tests {
		if got := tt.pass(tt.before).String(); got != tt.after {
			t.Errorf("%s:\n before %v\n after  %s\n want   %s", tt.name, tt.before, got, tt.after)
		}
	}
}

// FuzzSimplify checks that simplification keeps the meaning of random
// rules built from the table's own rules, on random arguments.
func FuzzSimplify(f *testing.F) {
	f.Add(int64(1))
	f.Add(int64(99))
	var pool []promise.Rule
	for p := promise.Promise(0); p < promise.Count; p++ {
		for _, e := range promise.Entries(p) {
			if e.Rule != nil {
				if o, ok := e.Rule.(promise.Open); ok {
					if low, ok := o.Lower(); ok {
						pool = append(pool, low)
					}
					continue
				}
				pool = append(pool, e.Rule)
			}
		}
	}
	f.Fuzz(func(t *testing.T, seed int64) {
		r := rand.New(rand.NewSource(seed))
		var rule promise.Or
		for i := 0; i < 1+r.Intn(5); i++ {
			rule = append(rule, pool[r.Intn(len(pool))])
		}
		s := simplify(rule)
		ctx := promise.Context{PID: 7}
		vals := map[int][]uint64{}
		ruleValues(rule, 7, vals)
		for i := 0; i < 300; i++ {
			var a promise.Args
			for arg := 0; arg < 6; arg++ {
				if vs := vals[arg]; len(vs) > 0 && r.Intn(4) > 0 {
					a[arg] = vs[r.Intn(len(vs))]
				} else {
					a[arg] = r.Uint64() >> uint(r.Intn(64))
				}
			}
			if rule.Match(&a, ctx) != s.Match(&a, ctx) {
				t.Fatalf("%v\nsimplified to %v\ndisagree on %#x", rule, s, a)
			}
		}
	})
}
