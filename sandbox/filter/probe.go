package filter

import (
	"math/rand"

	"github.com/vow-sandbox/vow/sandbox/promise"
)

// ruleValues returns, per argument index, values that probe rule r: the
// allowed values, their neighbours, every mask bit on its own, and the
// same values with the high word set.
func ruleValues(r promise.Rule, pid uint32, out map[int][]uint64) {
	add := func(arg int, vs ...uint64) { out[arg] = append(out[arg], vs...) }
	switch r := r.(type) {
	case promise.Cmp:
		for _, v := range r.Values {
			add(r.Arg, uint64(v), uint64(v)+1, uint64(v)-1, uint64(v)|1<<32, uint64(v|r.Mask&0x80000000))
		}
		for bit := uint32(1); bit != 0; bit <<= 1 {
			if r.Mask&bit != 0 {
				add(r.Arg, uint64(bit), uint64(r.Values[0]|bit))
			}
		}
		add(r.Arg, uint64(r.Mask), uint64(^r.Mask), 0)
	case promise.Null:
		add(r.Arg, 0, 1, 0x300000000000, 0xffffffff, 1<<63)
	case promise.SelfPID:
		add(r.Arg, uint64(pid), uint64(pid)+1, uint64(pid)|1<<32, 0)
	case promise.And:
		for _, x := range r {
			ruleValues(x, pid, out)
		}
	case promise.Or:
		for _, x := range r {
			ruleValues(x, pid, out)
		}
	case promise.Open:
		var flags []uint64
		for acc := uint64(0); acc < 4; acc++ {
			for _, extra := range []uint64{0, 0x200, 0x40, 0x400000, 0x410000, 0x404000, 0x240, 0x80000 | 0x20000, 0x200000, 1 << 32} {
				flags = append(flags, acc|extra)
			}
		}
		if r.FlagsArg >= 0 {
			add(r.FlagsArg, flags...)
		}
		add(r.ModeArg, 0o644, 0o4644, 0o2755, 0o1777, 0o777, 0)
	}
}

// probes returns the argument vectors worth trying for a system call: all
// zero, and for each rule of any promise on it, each probe value in its
// argument, alone and combined with the previous vector, plus random
// combinations drawn from r.
func probes(syscall string, pid uint32, r *rand.Rand) []promise.Args {
	vals := map[int][]uint64{}
	for p := promise.Promise(0); p < promise.Count; p++ {
		for _, e := range promise.Entries(p) {
			if e.Syscall == syscall && e.Rule != nil {
				ruleValues(e.Rule, pid, vals)
			}
		}
	}
	for _, e := range promise.Runtime {
		if e.Syscall == syscall && e.Rule != nil {
			ruleValues(e.Rule, pid, vals)
		}
	}
	out := []promise.Args{{}}
	if len(vals) == 0 {
		return out
	}
	var cur promise.Args
	for arg := 0; arg < 6; arg++ {
		vs := vals[arg]
		for _, v := range vs {
			var one promise.Args
			one[arg] = v
			cur[arg] = v
			out = append(out, one, cur)
		}
	}
	// Random combinations of probe values across arguments.
	for i := 0; i < 64; i++ {
		var x promise.Args
		for arg := 0; arg < 6; arg++ {
			if vs := vals[arg]; len(vs) > 0 {
				x[arg] = vs[r.Intn(len(vs))]
			}
		}
		out = append(out, x)
	}
	return out
}
