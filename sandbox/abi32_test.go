//go:build amd64

package sandbox

import (
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/vow-sandbox/vow/internal/abi32"
	"github.com/vow-sandbox/vow/internal/testutil"
)

// TestForeignABIKilled makes an i386 system call (int 0x80) under a
// pledge: the filter's architecture check must kill the process, even
// in EPERM mode, since the i386 numbers mean other calls.
func TestForeignABIKilled(t *testing.T) {
	if testutil.InChild(t) {
		if os.Getenv("VOW_TEST_PLEDGE") != "" {
			if err := Pledge("stdio", nil, PenaltyReturnEPERM); err != nil {
				fmt.Println("ERROR:", err)
				os.Exit(1)
			}
		}
		r := abi32.Syscall(abi32.GetPID)
		fmt.Println("RESULT", int32(r))
		os.Exit(0)
	}
	requireSeccomp(t)
	// Without a filter the call must work, else this kernel has no
	// 32-bit entry and there is nothing to test.
	res := testutil.RunChild(t, nil)
	if res.ExitCode != 0 || res.Signal != 0 {
		t.Skipf("this kernel has no i386 system call entry (int 0x80 gave exit %d, signal %v): nothing to escape through", res.ExitCode, res.Signal)
	}
	res = testutil.RunChild(t, &testutil.Options{Env: []string{"VOW_TEST_PLEDGE=1"}})
	if res.Signal != syscall.SIGSYS {
		t.Errorf("i386 call under pledge: exit %d, signal %v, stdout %q; want death by SIGSYS", res.ExitCode, res.Signal, res.Stdout)
	}
}
