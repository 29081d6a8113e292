package promise

import (
	"errors"
	"strings"
	"testing"

	"github.com/vow-sandbox/vow/sandbox/sysno"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Set
		wantErr string
	}{
		{"", 0, ""},
		{"   \t\r\n", 0, ""},
		{"stdio", Of(Stdio), ""},
		{"stdio rpath", Of(Stdio, Rpath), ""},
		{"STDIO  Rpath\tstdio", Of(Stdio, Rpath), ""},
		{"prot_exec anet chown", Of(ProtExec, Anet, Chown), ""},
		{"stdio error", Of(Stdio) | Error, ""},
		{"stdoi", 0, `unknown promise "stdoi" (did you mean "stdio"?)`},
		{"stdio rpat", 0, `unknown promise "rpat" (did you mean "rpath"?)`},
		{"inte", 0, `(did you mean "inet"?)`},
		{"protexec", 0, `(did you mean "prot_exec"?)`},
		{"getpw", 0, `unknown promise "getpw" (OpenBSD only; on Linux use "rpath" and unveil /etc/passwd`},
		{"thread", 0, `part of "stdio"`},
		{"zzzzzz", 0, `unknown promise "zzzzzz" (valid promises: stdio rpath`},
		{strings.Repeat("stdio ", 43), 0, "at most 255"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%q) error does not wrap ErrInvalid", tt.in)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestSetStringRoundTrip(t *testing.T) {
	for s := Set(1); s <= All; s = s<<1 | 1 {
		back, err := Parse(s.String())
		if err != nil || back != s {
			t.Errorf("%v: parsed back as %v, %v", s, back, err)
		}
	}
	if got := (Of(Rpath, Stdio) | Error).String(); got != "stdio rpath error" {
		t.Errorf("String = %q", got)
	}
}

func TestExecPromises(t *testing.T) {
	set := func(s string) *Set { x := MustParse(s); return &x }
	tests := []struct {
		promises string
		exec     *Set
		want     string
		err      bool
	}{
		{"stdio exec", nil, "stdio exec", false},
		{"stdio exec", set("stdio"), "stdio exec", false},
		{"stdio exec", set(""), "exec", false},
		{"stdio exec", set("stdio inet exec"), "", true},
		{"stdio inet tty exec", set("stdio tty"), "stdio tty exec", false},
		{"stdio", set("stdio inet"), "stdio inet", false},
	}
	for _, tt := range tests {
		got, err := ExecPromises(MustParse(tt.promises), tt.exec)
		if (err != nil) != tt.err || (!tt.err && got.String() != tt.want) {
			t.Errorf("ExecPromises(%q, %v) = %q, %v; want %q, err %v", tt.promises, tt.exec, got, err, tt.want, tt.err)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("error does not wrap ErrInvalid: %v", err)
		}
	}
}

// TestTableNames checks that every system call the table names exists on
// x86-64 (some are absent on arm64, which simply leaves them out), and
// that the entry counts per promise are what pledge.md §3.6 lists after
// vow's amendments of §0.
func TestTableNames(t *testing.T) {
	lists := map[string][]Entry{"default": Default, "runtime": Runtime}
	for p := Promise(0); p < Count; p++ {
		lists[p.String()] = Entries(p)
	}
	for name, es := range lists {
		for _, e := range es {
			if _, ok := sysno.AMD64.Number(e.Syscall); !ok {
				t.Errorf("%s: %q is not an x86-64 system call", name, e.Syscall)
			}
		}
	}
	// Upstream counts (x86-64) adjusted: stdio drops tkill and its
	// duplicate sched_getaffinity (121-... see below) and gains waitid and
	// five timer calls; rpath gains 3 inotify calls; wpath gains creat and
	// fallocate; settime gains clock_settime.
	want := map[Promise]int{Stdio: 122 - 2 + 6, Rpath: 18 + 3, Wpath: 16 + 2, Cpath: 15, Dpath: 2, Flock: 2,
		Fattr: 7, Inet: 12, Unix: 11, DNS: 12, Tty: 1, Recvfd: 2, Proc: 19, Exec: 2, ID: 13, Unveil: 3,
		Sendfd: 2, Settime: 3, ProtExec: 2, Vminfo: 1, Tmppath: 3, Chown: 4, Anet: 11}
	for p, n := range want {
		if got := len(Entries(p)); got != n {
			t.Errorf("%s has %d entries, want %d", p, got, n)
		}
	}
}

func TestRules(t *testing.T) {
	ctx := Context{PID: 77}
	a := func(vs ...uint64) *Args {
		var x Args
		copy(x[:], vs)
		return &x
	}
	tests := []struct {
		name string
		rule Rule
		args *Args
		want bool
	}{
		{"eq", Eq(1, 5), a(0, 5), true},
		{"eq low word only", Eq(1, 5), a(0, 1<<32|5), true},
		{"eq miss", Eq(1, 5), a(0, 6), false},
		{"in", In(0, 1, 2, 3), a(2), true},
		{"maskin", MaskIn(1, ^uint32(0x80800), 1, 2), a(0, 0x80801), true},
		{"nobits", NoBits(2, 0x4), a(0, 0, 3), true},
		{"nobits set", NoBits(2, 0x4), a(0, 0, 7), false},
		{"allbits", AllBits(0, 0x10F00), a(0x50F00), true},
		{"allbits partial", AllBits(0, 0x10F00), a(0x0F00), false},
		{"null", Null{4}, a(0, 0, 0, 0, 0), true},
		{"null high word", Null{4}, a(0, 0, 0, 0, 0x300000000000), false},
		{"self", SelfPID{0}, a(77), true},
		{"self other", SelfPID{0}, a(78), false},
		{"and", And{Eq(0, 1), Eq(1, 2)}, a(1, 2), true},
		{"and miss", And{Eq(0, 1), Eq(1, 2)}, a(1, 3), false},
		{"or", Or{Eq(0, 1), Eq(0, 2)}, a(2), true},
		{"open read", Open{2, 3, Read}, a(0, 0, 0), true},
		{"open rdwr needs write", Open{2, 3, Read}, a(0, 0, 2), false},
		{"open rdwr", Open{2, 3, Read | Write}, a(0, 0, 2), true},
		{"open trunc needs write", Open{2, 3, Read}, a(0, 0, 0x200), false},
		{"open accmode 3", Open{2, 3, Read | Write | Create}, a(0, 0, 3), false},
		{"open creat", Open{2, 3, Write | Create}, a(0, 0, 0x41, 0o644), true},
		{"open creat setuid", Open{2, 3, Write | Create}, a(0, 0, 0x41, 0o4644), false},
		{"open creat needs create", Open{2, 3, Write}, a(0, 0, 0x41, 0o644), false},
		{"open tmpfile", Open{2, 3, Write}, a(0, 0, 0x410001, 0o600), false},
		{"creat", Open{-1, 1, Write | Create}, a(0, 0o644), true},
		{"creat needs write", Open{-1, 1, Create}, a(0, 0o644), false},
	}
	for _, tt := range tests {
		if got := tt.rule.Match(tt.args, ctx); got != tt.want {
			t.Errorf("%s: %v.Match(%#x) = %v, want %v", tt.name, tt.rule, *tt.args, got, tt.want)
		}
		if o, ok := tt.rule.(Open); ok {
			low, possible := o.Lower()
			lowered := possible && low.Match(tt.args, ctx)
			if lowered != tt.want {
				t.Errorf("%s: lowered rule %v gives %v, want %v", tt.name, low, lowered, tt.want)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "stdio", "stdio rpath wpath", "STDIO\terror", "stdoi", "a b c", "\x00", "prot_exec anet"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q): error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		back, err := Parse(set.String())
		if err != nil || back != set {
			t.Fatalf("Parse(%q) = %v; its String %q parses as %v, %v", s, set, set.String(), back, err)
		}
	})
}

// FuzzOpenLower checks that the lowered form of the open rule, used for
// code generation, decides exactly like the rule itself.
func FuzzOpenLower(f *testing.F) {
	f.Add(uint8(7), uint64(0x41), uint64(0o644), true)
	f.Fuzz(func(t *testing.T, grant uint8, flags, mode uint64, creat bool) {
		o := Open{FlagsArg: 2, ModeArg: 3, Grant: Access(grant & 7)}
		if creat {
			o = Open{FlagsArg: -1, ModeArg: 1, Grant: Access(grant & 7)}
		}
		args := &Args{0, mode, flags, mode}
		want := o.Match(args, Context{})
		low, ok := o.Lower()
		got := ok && low.Match(args, Context{})
		if got != want {
			t.Fatalf("%v on flags %#x mode %#o: lowered %v, rule %v", o, flags, mode, got, want)
		}
	})
}
