package sandbox

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/sandbox/bpf"
	"github.com/vow-sandbox/vow/sandbox/filter"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

// TestCommitFilter checks the seccomp filter an unveil commit adds:
// setxattr fails with EPERM even inside an unveiled tree (pledge.md §6.4,
// reproduced with its quirk: lsetxattr is not blocked), while ordinary
// calls keep working.
func TestCommitFilter(t *testing.T) {
	requireProcessWide(t)
	inChild(t, 0, func(t *testing.T, fx fixture) {
		mustUnveil(t, fx.p("jail"), "rwc")
		mustCommit(t)
		f := fx.p("jail/ok.txt")
		if err := unix.Setxattr(f, "user.vow", []byte("x"), 0); err != unix.EPERM {
			t.Errorf("setxattr after commit: %v, want EPERM", err)
		}
		if err := unix.Lsetxattr(f, "user.vow", []byte("x"), 0); err == unix.EPERM {
			t.Errorf("lsetxattr after commit: EPERM; upstream only blocks setxattr")
		}
		if _, err := os.ReadFile(f); err != nil {
			t.Errorf("read inside the tree: %v", err)
		}
		if mode, _ := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0); mode != 2 {
			t.Errorf("PR_GET_SECCOMP = %d, want 2 (filter installed)", mode)
		}
	})
}

// TestCommitFilterVerdicts runs the commit filter in the emulator for
// each Landlock ABI: truncate is refused only where Landlock cannot
// control it.
func TestCommitFilterVerdicts(t *testing.T) {
	a := sysno.Native()
	if a == nil {
		t.Skip("unsupported architecture")
	}
	eperm := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM))
	for _, abi := range []int{1, 2, 3, 7} {
		prog, err := commitFilter(abi)
		if err != nil {
			t.Fatal(err)
		}
		if err := bpf.ValidateSeccomp(prog); err != nil {
			t.Fatal(err)
		}
		truncate := uint32(unix.SECCOMP_RET_ALLOW)
		if abi < 3 {
			truncate = eperm
		}
		for name, want := range map[string]uint32{"setxattr": eperm, "truncate": truncate, "read": unix.SECCOMP_RET_ALLOW,
			"lsetxattr": unix.SECCOMP_RET_ALLOW, "ftruncate": unix.SECCOMP_RET_ALLOW} {
			nr, _ := a.Number(name)
			d := &filter.Data{Nr: nr, Arch: a.Audit}
			got, _, err := bpf.Run(prog, d.Bytes())
			if err != nil || got != want {
				t.Errorf("ABI %d %s: %s (%v), want %s", abi, name, filter.Describe(got), err, filter.Describe(want))
			}
		}
		d := &filter.Data{Nr: 0, Arch: 0x40000003}
		if got, _, _ := bpf.Run(prog, d.Bytes()); got != unix.SECCOMP_RET_KILL_PROCESS {
			t.Errorf("ABI %d: foreign arch %s", abi, filter.Describe(got))
		}
	}
}
