package filter

import (
	"testing"

	"github.com/vow-sandbox/vow/internal/speccases"
	"github.com/vow-sandbox/vow/sandbox/bpf"
	"github.com/vow-sandbox/vow/sandbox/promise"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

// TestSpecCases runs the hand-written cases against the compiled program
// (both layouts) and the reference evaluator, in EPERM and kill mode.
func TestSpecCases(t *testing.T) {
	cases, err := speccases.Read(speccases.Path(), testPID)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 500 {
		t.Fatalf("only %d cases", len(cases))
	}
	type key struct {
		arch *sysno.Arch
		set  promise.Set
		pen  Penalty
	}
	progs := map[key][2]*bpf.Program{}
	checked := 0
	for _, c := range cases {
		set, err := promise.Parse(c.Promises)
		if err != nil {
			t.Errorf("line %d: %v", c.Line, err)
			continue
		}
		for _, a := range sysno.All {
			if !c.On(a) {
				continue
			}
			nr, ok := c.Number(a)
			if !ok {
				t.Errorf("line %d: %s has no system call %q", c.Line, a, c.Syscall)
				continue
			}
			for _, pen := range []Penalty{ReturnEPERM, KillProcess} {
				pol := &Policy{Arch: a, Promises: set, Penalty: pen, PID: testPID}
				k := key{a, set, pen}
				ps, ok := progs[k]
				if !ok {
					p1, err1 := Compile(pol)
					p2, err2 := CompileLinear(pol)
					if err1 != nil || err2 != nil {
						t.Fatal(err1, err2)
					}
					ps = [2]*bpf.Program{p1, p2}
					progs[k] = ps
				}
				deny, _ := pol.DenyAction()
				want := map[string]uint32{"allow": retAllow, "deny": deny, "enosys": retENOSYS, "eperm": retEPERM}[c.Verdict]
				d := &Data{Nr: nr, Arch: a.Audit, Args: c.Args}
				ref, _ := Evaluate(pol, d)
				got, _, _ := bpf.Run(ps[0].Insns, d.Bytes())
				lin, _, _ := bpf.Run(ps[1].Insns, d.Bytes())
				if got != want || lin != want || ref != want {
					t.Errorf("line %d (%s, %s): want %s; search %s, linear %s, table %s\n\t%s",
						c.Line, a, pen, Describe(want), Describe(got), Describe(lin), Describe(ref), c.Text)
				}
				checked++
			}
		}
	}
	t.Logf("%d cases, %d checks", len(cases), checked)
}
