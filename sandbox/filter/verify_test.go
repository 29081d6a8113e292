package filter

import (
	"math/rand"
	"testing"

	"github.com/vow-sandbox/vow/sandbox/bpf"
	"github.com/vow-sandbox/vow/sandbox/promise"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

const testPID = 4242

// corpus returns the promise sets the verifier checks: empty, each
// promise alone and with stdio, all of them, the benchmark sets, and
// random subsets.
func corpus(r *rand.Rand) []promise.Set {
	sets := []promise.Set{0, promise.All, promise.All | promise.Error,
		promise.MustParse("stdio rpath"), promise.MustParse("stdio rpath wpath cpath inet dns proc exec")}
	for p := promise.Promise(0); p < promise.Count; p++ {
		sets = append(sets, promise.Of(p), promise.Of(p, promise.Stdio))
	}
	for i := 0; i < 40; i++ {
		sets = append(sets, promise.Set(r.Uint32())&promise.All)
	}
	return sets
}

// numbers are the system call numbers every policy is probed with.
func numbers(a *sysno.Arch) []uint32 {
	var nrs []uint32
	for nr := uint32(0); nr < 470; nr++ {
		nrs = append(nrs, nr)
	}
	nrs = append(nrs, 1000, 0x7fffffff, 0xffffffff, 0x80000000)
	if a.X32Bit != 0 {
		for _, nr := range []uint32{0, 1, 2, 39, 60, 231, 257, 512, 545} {
			nrs = append(nrs, nr|a.X32Bit)
		}
	}
	return nrs
}

// TestVerifier compiles every policy of the corpus in both layouts and
// checks each program against the direct evaluation of the promise table
// on every number and on each rule's allowed and forbidden arguments; it
// also checks that calls allowed without argument checks never load an
// argument (so the kernel's action cache serves them).
func TestVerifier(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, a := range sysno.All {
		probeCache := map[string][]promise.Args{}
		for _, set := range corpus(r) {
			for _, pol := range []Policy{
				{Arch: a, Promises: set, Penalty: ReturnEPERM, PID: testPID},
				{Arch: a, Promises: set, Penalty: KillProcess, PID: testPID},
				{Arch: a, Promises: set, Penalty: KillThread, PID: testPID, Runtime: true},
			} {
				verify(t, &pol, numbers(a), probeCache, r)
			}
		}
	}
}

// TestVerifierBeneath checks filters compiled to sit on top of a
// supervised one (Policy.Beneath) against the reference, which defers
// every call the filter below refuses.
func TestVerifierBeneath(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	sets := corpus(r)
	for _, a := range sysno.All {
		probeCache := map[string][]promise.Args{}
		for i := 0; i < 30; i++ {
			below := sets[r.Intn(len(sets))]
			pol := Policy{Arch: a, Promises: sets[r.Intn(len(sets))], Penalty: ReturnEPERM, Runtime: true, PID: testPID, Beneath: &below}
			verify(t, &pol, numbers(a), probeCache, r)
		}
	}
}

func verify(t *testing.T, pol *Policy, nrs []uint32, probeCache map[string][]promise.Args, r *rand.Rand) {
	t.Helper()
	a := pol.Arch
	prog, err := CompileAnnotated(pol)
	if err != nil {
		t.Fatalf("%s %q: %v", a, pol.Promises, err)
	}
	lin := prog // the linear layout has no Beneath
	if pol.Beneath == nil {
		if lin, err = CompileLinear(pol); err != nil {
			t.Fatalf("%s %q linear: %v", a, pol.Promises, err)
		}
	}
	for _, p := range []*bpf.Program{prog, lin} {
		if err := bpf.ValidateSeccomp(p.Insns); err != nil {
			t.Fatalf("%s %q: kernel would reject the program: %v", a, pol.Promises, err)
		}
	}
	failures := 0
	for _, nr := range nrs {
		name := a.SyscallName(nr)
		args, ok := probeCache[name]
		if !ok {
			args = probes(name, testPID, r)
			probeCache[name] = args
		}
		for i := range args {
			d := &Data{Nr: nr, Arch: a.Audit, Args: args[i]}
			want, err := Evaluate(pol, d)
			if err != nil {
				t.Fatal(err)
			}
			got, st, err := bpf.Run(prog.Insns, d.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			gotLin, _, err := bpf.Run(lin.Insns, d.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if got != want || gotLin != want {
				failures++
				if failures < 10 {
					t.Errorf("%s %q nr %d (%s) args %#x: search %s, linear %s, table %s",
						a, pol.Promises, nr, name, d.Args, Describe(got), Describe(gotLin), Describe(want))
				}
			}
			if x := pol.grant(a, name); x != nil && x.any && name != "" && st.Loaded(8, 56) {
				t.Errorf("%s %q: %s is allowed unconditionally but its path loads %v (defeats the action cache)",
					a, pol.Promises, name, st.Loads)
			}
		}
	}
	// A foreign architecture is killed whatever the number.
	for _, other := range sysno.All {
		if other == a {
			continue
		}
		for _, nr := range []uint32{0, 1, 59, 221} {
			d := &Data{Nr: nr, Arch: other.Audit}
			if got, _, _ := bpf.Run(prog.Insns, d.Bytes()); got != retForeign {
				t.Errorf("%s %q: foreign arch %s nr %d: %s", a, pol.Promises, other, nr, Describe(got))
			}
		}
	}
	d := &Data{Nr: 0, Arch: 0x40000003} // i386
	if got, _, _ := bpf.Run(prog.Insns, d.Bytes()); got != retForeign {
		t.Errorf("%s: i386 not killed: %s", a, Describe(got))
	}
}
