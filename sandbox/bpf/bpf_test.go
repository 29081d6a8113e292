package bpf

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func input(words ...uint32) []byte {
	b := make([]byte, SeccompDataSize)
	for i, w := range words {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	return b
}

// farJump builds: A = word 0; if A == 5 goto far else next; pad; ret 1; far: ret 2.
func farJump(t *testing.T, pad int, both bool) *Program {
	t.Helper()
	var b Builder
	far := b.NewLabel("far")
	near := Next
	nearL := b.NewLabel("near")
	if both {
		near = nearL
	}
	b.LoadAbs(0, "")
	b.JumpIf(JEQ, 5, far, near, "")
	if !both {
		b.Mark(nearL) // unused
	}
	for i := 0; i < pad; i++ {
		b.And(0xffffffff, "pad")
	}
	if both {
		b.Mark(nearL)
		for i := 0; i < pad; i++ {
			b.And(0xffffffff, "pad")
		}
	}
	b.Ret(1, "near")
	b.Mark(far)
	b.Ret(2, "far")
	p, err := b.Assemble()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLongJumps(t *testing.T) {
	for _, pad := range []int{0, 1, 253, 254, 255, 256, 300, 1000} {
		for _, both := range []bool{false, true} {
			p := farJump(t, pad, both)
			if err := ValidateSeccomp(p.Insns); err != nil {
				t.Fatalf("pad %d: %v", pad, err)
			}
			for a, want := range map[uint32]uint32{5: 2, 6: 1} {
				got, _, err := Run(p.Insns, input(a))
				if err != nil || got != want {
					t.Errorf("pad %d both %v A=%d: got %d, %v; want %d", pad, both, a, got, err, want)
				}
			}
			extra := len(p.Insns) - (pad + 4)
			if both {
				extra -= pad
			}
			if wantExtra := 0; pad+boolInt(both)*pad > 255 && extra == wantExtra {
				t.Errorf("pad %d: no long jump inserted", pad)
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// FuzzAssemble builds random forward-jumping programs and checks that the
// assembled code (with its long jumps) computes what the symbolic program
// does, by running both.
func FuzzAssemble(f *testing.F) {
	f.Add(int64(1), uint32(3))
	f.Add(int64(7), uint32(0))
	f.Add(int64(42), uint32(0xffffffff))
	f.Fuzz(func(t *testing.T, seed int64, a uint32) {
		r := rand.New(rand.NewSource(seed))
		b := randomProgram(r, 0)
		p, err := b.Assemble()
		if err != nil {
			t.Fatal(err)
		}
		if err := ValidateSeccomp(p.Insns); err != nil {
			t.Fatal(err)
		}
		in := input(a, a^0x5555, a>>3, ^a, a*7, 1, 2, 3, a, 0, a+1, 4, 5, 6, 7, 8)
		got, _, err := Run(p.Insns, in)
		if err != nil {
			t.Fatal(err)
		}
		if want := runSymbolic(t, b, in); got != want {
			t.Fatalf("assembled program returned %#x, symbolic %#x", got, want)
		}
	})
}

// randomProgram builds a random forward-jumping program of up to 600
// instructions; its returns give one of rets values (all different when
// rets is 0).
func randomProgram(r *rand.Rand, rets int) *Builder {
	b := &Builder{}
	n := 1 + r.Intn(600)
	// Decide where labels go first, then emit instructions that jump
	// only to labels placed after them.
	at := make([]Label, n+1)
	for i := range at {
		if r.Intn(8) == 0 || i == n {
			at[i] = b.NewLabel("")
		}
	}
	pick := func(i int) Label {
		for tries := 0; tries < 4; tries++ {
			j := i + 1 + r.Intn(n-i)
			if !at[j].IsNext() {
				return at[j]
			}
		}
		return at[n]
	}
	conds := []Cond{JEQ, JGT, JGE, JSET}
	for i := 0; i < n; i++ {
		b.Mark(at[i])
		switch r.Intn(6) {
		case 0:
			b.JumpIf(conds[r.Intn(4)], r.Uint32()>>uint(r.Intn(32)), pick(i), pick(i), "")
		case 1:
			b.JumpIf(conds[r.Intn(4)], r.Uint32()>>uint(r.Intn(32)), pick(i), Next, "")
		case 2:
			b.Jump(pick(i), "")
		case 3:
			ret := uint32(i)
			if rets > 0 {
				ret = uint32(r.Intn(rets))
			}
			b.Ret(ret, "")
		case 4:
			b.LoadAbs(uint32(4*r.Intn(16)), "")
		default:
			b.And(r.Uint32()|r.Uint32(), "")
		}
	}
	b.Mark(at[n])
	b.Ret(0xdead, "")
	return b
}

// runSymbolic interprets the builder's instructions with label targets.
func runSymbolic(t *testing.T, b *Builder, in []byte) uint32 {
	var a uint32
	for pc := 0; pc < len(b.insns); {
		p := b.insns[pc]
		goTo := func(l Label) int {
			if l.IsNext() {
				return pc + 1
			}
			return b.marks[l.id]
		}
		code := p.ins.Code
		switch {
		case code == unix.BPF_LD|unix.BPF_W|unix.BPF_ABS:
			a = binary.LittleEndian.Uint32(in[p.ins.K:])
			pc++
		case code == unix.BPF_ALU|unix.BPF_AND|unix.BPF_K:
			a &= p.ins.K
			pc++
		case code == unix.BPF_RET|unix.BPF_K:
			return p.ins.K
		case code == unix.BPF_JMP|unix.BPF_JA:
			pc = goTo(p.ja)
		default:
			var ok bool
			switch Cond(code & 0xf0) {
			case JEQ:
				ok = a == p.ins.K
			case JGT:
				ok = a > p.ins.K
			case JGE:
				ok = a >= p.ins.K
			case JSET:
				ok = a&p.ins.K != 0
			}
			if ok {
				pc = goTo(p.jt)
			} else {
				pc = goTo(p.jf)
			}
		}
	}
	t.Fatal("symbolic program ran off its end")
	return 0
}

func TestRunAndValidate(t *testing.T) {
	var b Builder
	done := b.NewLabel("done")
	b.LoadAbs(4, "arch")
	b.JumpIf(JSET, 0x1, done, Next, "")
	b.And(0xf0, "")
	b.JumpIf(JGE, 0x20, done, Next, "")
	b.Ret(7, "small")
	b.Mark(done)
	b.Ret(9, "done")
	p, err := b.Assemble()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		w    uint32
		want uint32
		n    int
	}{{1, 9, 3}, {0x10, 7, 5}, {0x30, 9, 5}}
	for _, tt := range tests {
		got, st, err := Run(p.Insns, input(0, tt.w))
		if err != nil || got != tt.want || st.Executed != tt.n {
			t.Errorf("w=%#x: got %d after %d, %v; want %d after %d", tt.w, got, st.Executed, err, tt.want, tt.n)
		}
		if !st.Loaded(4, 4) || st.Loaded(0, 4) {
			t.Errorf("loads %v", st.Loads)
		}
	}
	raw := Encode(p.Insns)
	back, err := Decode(raw)
	if err != nil || len(back) != len(p.Insns) {
		t.Fatal(err)
	}
	for i := range back {
		if back[i] != p.Insns[i] {
			t.Fatalf("decode mismatch at %d", i)
		}
	}
	var buf bytes.Buffer
	if err := p.WriteListing(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ld   [4]", "jset #0x1, 5, 2", "done:", "ret  #0x9", "; small"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("listing lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestValidateRejects(t *testing.T) {
	ret := unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K}
	tests := map[string][]unix.SockFilter{
		"empty":         nil,
		"no ret":        {{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS}},
		"unaligned":     {{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 2}, ret},
		"past data":     {{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 64}, ret},
		"jump past end": {{Code: unix.BPF_JMP | unix.BPF_JEQ, Jt: 5}, ret},
		"ja past end":   {{Code: unix.BPF_JMP | unix.BPF_JA, K: 1}, ret},
		"byte load":     {{Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS}, ret},
		"div by zero":   {{Code: unix.BPF_ALU | unix.BPF_DIV | unix.BPF_K}, ret},
	}
	for name, prog := range tests {
		if err := ValidateSeccomp(prog); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
