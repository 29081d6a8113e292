package sandbox

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/sandbox/bpf"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

// commitFilter is the small seccomp filter every unveil commit adds
// (pledge.md §6.4 step 4): it plugs what Landlock cannot control. setxattr
// fails with EPERM everywhere (upstream blocks only this one of the xattr
// calls), and so does truncate when the kernel's Landlock cannot control
// truncation (ABI < 3). Everything else is allowed; a foreign architecture
// is killed, as in every vow filter.
func commitFilter(abi int) ([]unix.SockFilter, error) {
	a := sysno.Native()
	if a == nil {
		return nil, fmt.Errorf("unveil commit: this architecture is not supported")
	}
	var b bpf.Builder
	native := b.NewLabel("")
	eperm := b.NewLabel("")
	b.LoadAbs(4, "arch")
	b.JumpIf(bpf.JEQ, a.Audit, native, bpf.Next, "AUDIT_ARCH_"+strings.ToUpper(a.Kernel))
	b.Ret(unix.SECCOMP_RET_KILL_PROCESS, "foreign architecture")
	b.Mark(native)
	b.LoadAbs(0, "syscall number")
	blocked := []string{"setxattr"}
	if abi < 3 {
		blocked = append(blocked, "truncate")
	}
	for _, name := range blocked {
		if nr, ok := a.Number(name); ok {
			b.JumpIf(bpf.JEQ, nr, eperm, bpf.Next, name)
		}
	}
	b.Ret(unix.SECCOMP_RET_ALLOW, "")
	b.Mark(eperm)
	b.Ret(unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM), "")
	prog, err := b.Assemble()
	if err != nil {
		return nil, fmt.Errorf("bug: unveil commit filter: %w", err)
	}
	return prog.Insns, nil
}
