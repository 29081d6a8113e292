package filter_test

import (
	"fmt"

	"github.com/vow-sandbox/vow/sandbox/filter"
	"github.com/vow-sandbox/vow/sandbox/promise"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

// The listing of the filter for the empty promise set on arm64: only
// thread exit is allowed, exit_group fails softly with EPERM, and the
// pre-filter's ENOSYS verdicts remain.
func ExampleCompileAnnotated() {
	p := &filter.Policy{Arch: sysno.ARM64, Promises: promise.MustParse(""), Penalty: filter.ReturnEPERM}
	prog, err := filter.CompileAnnotated(p)
	if err != nil {
		panic(err)
	}
	fmt.Print(filter.Listing(p, prog))
	// Output:
	// ; vow seccomp filter for pledge("")
	// ; arch aarch64, violations: errno EPERM, 16 instructions
	//     0: ld   [4]                              ; arch
	//     1: jeq  #0xc00000b7, 3, 2                ; AUDIT_ARCH_AARCH64
	//     2: ret  #0x80000000                      ; foreign architecture: kill-process
	//     3: ld   [0]                              ; syscall number
	//     4: jge  #0x1b3, 10, 5
	//     5: jge  #0x5e, 8, 6
	//     6: jge  #0x5d, 7, 14                     ; (jf → errno EPERM: 0-92 io_setup io_destroy io_submit io_cancel +89 more)
	//     7: ret  #0x7fff0000                      ; allow: 93 exit [default]
	//     8: jge  #0x117, 9, 14                    ; (jf → errno EPERM: 94-278 exit_group waitid set_tid_address unshare +166 more)
	//     9: jge  #0x118, 14, 15                   ; (jt → errno EPERM: 280-434 bpf execveat userfaultfd membarrier +22 more) (jf → errno ENOSYS: 279 memfd_create [forced ENOSYS])
	//    10: jge  #0x1b5, 12, 11
	//    11: jge  #0x1b4, 14, 15                   ; (jt → errno EPERM: 436 close_range) (jf → errno ENOSYS: 435 clone3 [forced ENOSYS])
	//    12: jge  #0x1b6, 13, 15                   ; (jf → errno ENOSYS: 437 openat2 [forced ENOSYS])
	//    13: jge  #0x1bf, 15, 14
	//    14: ret  #0x50001                         ; errno EPERM: 438-446 pidfd_getfd faccessat2 process_madvise epoll_pwait2 +5 more
	//    15: ret  #0x50026                         ; errno ENOSYS: 447-
}

// Compile returns the program to install; Evaluate decides the same call
// straight from the promise table.
func ExampleEvaluate() {
	p := &filter.Policy{Arch: sysno.AMD64, Promises: promise.MustParse("stdio rpath"), Penalty: filter.ReturnEPERM}
	openat, _ := sysno.AMD64.Number("openat")
	for _, flags := range []uint64{0 /* O_RDONLY */, 1 /* O_WRONLY */} {
		d := &filter.Data{Nr: openat, Arch: sysno.AMD64.Audit, Args: [6]uint64{0, 0, flags}}
		ret, _ := filter.Evaluate(p, d)
		fmt.Printf("openat flags %d: %s\n", flags, filter.Describe(ret))
	}
	// Output:
	// openat flags 0: allow
	// openat flags 1: errno EPERM
}
