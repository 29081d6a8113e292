package filter

import (
	"testing"

	"github.com/vow-sandbox/vow/sandbox/bpf"
	"github.com/vow-sandbox/vow/sandbox/promise"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

// FuzzCompile compiles random promise sets and checks the program against
// the direct evaluation of the table on random seccomp_data.
func FuzzCompile(f *testing.F) {
	f.Add(uint32(1), uint8(2), false, uint32(0), uint32(9), uint64(0), uint64(0), uint64(3), uint64(0x22), uint64(0), uint64(0), uint32(0))
	f.Add(uint32(promise.All), uint8(1), true, uint32(1), uint32(54), uint64(3), uint64(1), uint64(2), uint64(0), uint64(0), uint64(0), uint32(0))
	f.Add(uint32(0x8e), uint8(0), false, uint32(0), uint32(257), uint64(0), uint64(0), uint64(0x241), uint64(0o4644), uint64(0), uint64(0), uint32(0x3))
	f.Fuzz(func(t *testing.T, set uint32, pen uint8, runtime bool, arch uint32, nr uint32, a0, a1, a2, a3, a4, a5 uint64, beneath uint32) {
		a := sysno.All[arch%uint32(len(sysno.All))]
		p := &Policy{Arch: a, Promises: promise.Set(set) & (promise.All | promise.Error), Penalty: Penalty(pen % 3), Runtime: runtime, PID: testPID}
		if beneath != 0 { // a filter on top of a supervised one
			below := promise.Set(beneath) & promise.All
			p.Beneath = &below
		}
		if nr&0xff000000 == 0 {
			nr %= 480 // mostly real numbers
		}
		d := &Data{Nr: nr, Arch: a.Audit, Args: promise.Args{a0, a1, a2, a3, a4, a5}}
		prog, err := Compile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := bpf.ValidateSeccomp(prog.Insns); err != nil {
			t.Fatal(err)
		}
		want, err := Evaluate(p, d)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := bpf.Run(prog.Insns, d.Bytes())
		if err != nil || got != want {
			t.Fatalf("%s %q nr %d args %#x: program %s (%v), table %s", a, p.Promises, nr, d.Args, Describe(got), err, Describe(want))
		}
	})
}
