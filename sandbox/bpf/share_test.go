package bpf

import (
	"math/rand"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzShareReturns: on random programs with few distinct verdicts,
// ShareReturns keeps every run's verdict and instruction count, keeps the
// program valid for seccomp, and leaves no return it could have removed
// next to an identical one.
func FuzzShareReturns(f *testing.F) {
	f.Add(int64(1), uint32(3), uint8(2))
	f.Add(int64(9), uint32(0), uint8(1))
	f.Add(int64(77), uint32(0xffffffff), uint8(5))
	f.Fuzz(func(t *testing.T, seed int64, a uint32, rets uint8) {
		r := rand.New(rand.NewSource(seed))
		b := randomProgram(r, 1+int(rets%6))
		p, err := b.Assemble()
		if err != nil {
			t.Fatal(err)
		}
		before := slices.Clone(p.Insns)
		p.ShareReturns()
		if err := ValidateSeccomp(p.Insns); err != nil {
			t.Fatalf("after ShareReturns: %v", err)
		}
		if len(p.Insns) > len(before) || len(p.Comments) != len(p.Insns) {
			t.Fatalf("%d instructions and %d comments from %d", len(p.Insns), len(p.Comments), len(before))
		}
		for _, in := range [][]byte{
			input(a, a^0x5555, a>>3, ^a, a*7, 1, 2, 3, a, 0, a+1, 4, 5, 6, 7, 8),
			input(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
			input(^a, a, a<<5, a|1, 0x5421, 9, a, a, a, a, 1<<31, 4, 5, 6, 7, ^uint32(0)),
		} {
			want, wst, err := Run(before, in)
			if err != nil {
				t.Fatal(err)
			}
			got, gst, err := Run(p.Insns, in)
			if err != nil {
				t.Fatal(err)
			}
			if got != want || gst.Executed != wst.Executed {
				t.Fatalf("returned %#x after %d instructions, before %#x after %d", got, gst.Executed, want, wst.Executed)
			}
		}
	})
}

func TestShareReturns(t *testing.T) {
	var b Builder
	yes, no := b.NewLabel("yes"), b.NewLabel("")
	b.LoadAbs(0, "nr")
	b.JumpIf(JEQ, 1, yes, Next, "")
	b.JumpIf(JEQ, 2, no, Next, "")
	b.Ret(unix.SECCOMP_RET_ALLOW, "allow 3")
	b.Mark(yes)
	b.Ret(unix.SECCOMP_RET_ERRNO|1, "deny 1")
	b.Mark(no)
	b.Ret(unix.SECCOMP_RET_ALLOW, "allow 2")
	p, err := b.Assemble()
	if err != nil {
		t.Fatal(err)
	}
	p.ShareReturns()
	var sb strings.Builder
	p.WriteListing(&sb)
	want := `    0: ld   [0]                              ; nr
    1: jeq  #0x1, 3, 2
    2: jeq  #0x2, 4, 4                       ; (jf → allow 3)
yes:
    3: ret  #0x50001                         ; deny 1
    4: ret  #0x7fff0000                      ; allow 2
`
	if sb.String() != want {
		t.Errorf("listing:\n%s\nwant:\n%s", sb.String(), want)
	}
}
