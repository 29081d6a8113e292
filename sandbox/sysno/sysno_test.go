package sysno

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func TestNumbers(t *testing.T) {
	tests := []struct {
		arch *Arch
		name string
		nr   uint32
		ok   bool
	}{
		{AMD64, "read", 0, true},
		{AMD64, "openat", 257, true},
		{AMD64, "newfstatat", 262, true},
		{AMD64, "landlock_restrict_self", 446, true},
		{AMD64, "memfd_secret", 447, true},
		{ARM64, "read", 63, true},
		{ARM64, "openat", 56, true},
		{ARM64, "newfstatat", 79, true},
		{ARM64, "clone3", 435, true},
		{ARM64, "open", 0, false},
		{ARM64, "fork", 0, false},
		{ARM64, "arch_prctl", 0, false},
	}
	for _, tt := range tests {
		nr, ok := tt.arch.Number(tt.name)
		if nr != tt.nr || ok != tt.ok {
			t.Errorf("%s.Number(%q) = %d, %v; want %d, %v", tt.arch, tt.name, nr, ok, tt.nr, tt.ok)
		}
		if ok && tt.arch.SyscallName(nr) != tt.name {
			t.Errorf("%s.SyscallName(%d) = %q; want %q", tt.arch, nr, tt.arch.SyscallName(nr), tt.name)
		}
	}
}

func TestNativeMatchesXSys(t *testing.T) {
	a := Native()
	if a == nil {
		t.Skipf("GOARCH %s is not supported by vow", runtime.GOARCH)
	}
	for name, want := range map[string]uint32{
		"read": unix.SYS_READ, "mmap": unix.SYS_MMAP, "clone": unix.SYS_CLONE,
		"seccomp": unix.SYS_SECCOMP, "exit_group": unix.SYS_EXIT_GROUP,
	} {
		if got, _ := a.Number(name); got != want {
			t.Errorf("%s: %d, x/sys says %d", name, got, want)
		}
	}
}

func TestLookup(t *testing.T) {
	for _, n := range []string{"amd64", "x86_64", "arm64", "aarch64"} {
		if _, err := Lookup(n); err != nil {
			t.Errorf("Lookup(%q): %v", n, err)
		}
	}
	if _, err := Lookup("riscv64"); err == nil {
		t.Error("Lookup(riscv64) succeeded")
	}
}

func TestTables(t *testing.T) {
	for _, a := range All {
		names := a.Names()
		if len(names) != len(a.byName) || len(names) < 300 {
			t.Errorf("%s: %d names, %d in byName", a, len(names), len(a.byName))
		}
		for i := 1; i < len(a.byName); i++ {
			if x, y := a.byNr[a.byName[i-1]], a.byNr[a.byName[i]]; x >= y {
				t.Errorf("%s: byName not sorted at %q, %q", a, x, y)
			}
		}
		prev := -1
		for _, n := range names {
			nr, ok := a.Number(n)
			if !ok || int(nr) <= prev || a.SyscallName(nr) != n {
				t.Errorf("%s: %q: Number = %d, %v (previous %d), SyscallName = %q", a, n, nr, ok, prev, a.SyscallName(nr))
			}
			prev = int(nr)
		}
		for _, n := range []string{"", "Read", "read ", "zzz", "_", "\xff"} {
			if nr, ok := a.Number(n); ok {
				t.Errorf("%s.Number(%q) = %d, true", a, n, nr)
			}
		}
		for _, nr := range []uint32{uint32(len(a.byNr)), a.X32Bit, 1 << 31, ^uint32(0)} {
			if n := a.SyscallName(nr); n != "" && nr != 0 {
				t.Errorf("%s.SyscallName(%#x) = %q", a, nr, n)
			}
		}
	}
	if n := ARM64.SyscallName(250); n != "" { // a hole in arm64's numbers
		t.Errorf("arm64.SyscallName(250) = %q", n)
	}
}

func BenchmarkNumber(b *testing.B) {
	names := AMD64.Names()
	for i := 0; b.Loop(); i++ {
		AMD64.Number(names[i%len(names)])
	}
}
