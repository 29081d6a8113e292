package sandbox

import (
	"bytes"
	"encoding/binary"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/pledgecli"
	"github.com/vow-sandbox/vow/internal/testutil"
)

// TestLaunchConcurrent starts many children at once from several
// goroutines while the garbage collector runs without pause, directly
// (the children share this process's memory on x86-64, fork_clonevm.go,
// and must neither disturb it nor be disturbed by it) and through the
// launcher.
func TestLaunchConcurrent(t *testing.T) {
	for _, direct := range []bool{true, false} {
		name := "direct"
		if !direct {
			name = "launcher"
		}
		t.Run(name, func(t *testing.T) {
			forkLaunches = direct
			defer func() { forkLaunches = true }()
			launchConcurrent(t)
		})
	}
}

func launchConcurrent(t *testing.T) {
	probe := testutil.Probe(t)
	stop := make(chan struct{})
	var gcs sync.WaitGroup
	gcs.Add(1)
	go func() {
		defer gcs.Done()
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	defer func() { close(stop); gcs.Wait() }()
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan string, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				p := "stdio"
				var out, log bytes.Buffer
				r, wr, err := os.Pipe()
				if err != nil {
					errs <- err.Error()
					return
				}
				cmd := &Cmd{Path: probe, Args: []string{"probe", "pid", "inet"}, Promises: &p, Stdout: wr, Log: &log}
				if w%2 == 1 {
					cmd.Log = nil // without a listener too
				}
				err = cmd.Start()
				wr.Close()
				if err == nil {
					out.ReadFrom(r)
					err = cmd.Wait()
				}
				r.Close()
				if err != nil || !strings.HasSuffix(out.String(), "EPERM\n") {
					errs <- strings.TrimSpace(out.String()) + ": " + errString(err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for e := range errs {
		if n++; n <= 5 {
			t.Error(e)
		}
	}
	if n > 0 {
		t.Errorf("%d of %d launches failed", n, workers*each)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestStepError: the parent words the direct child's step reports as the
// Go launcher words the same failures, with the pledge command's codes.
func TestStepError(t *testing.T) {
	spec := &launchSpec{Name: "pledge"}
	l := &launcher{plan: &launchPlan{path: "/bin/x", execPaths: []string{"/bin/x", "/lib/ld.so"}}}
	frame := func(step byte, e syscall.Errno, index uint32) []byte {
		b := append([]byte{step}, binary.LittleEndian.AppendUint32(nil, uint32(e))...)
		return binary.LittleEndian.AppendUint32(b, index)
	}
	for _, c := range []struct {
		payload []byte
		code    int
		msg     string
	}{
		{frame(stepDescriptors, unix.EBADF, 1), pledgecli.ExitFailure, "pledge: putting descriptor 1 in place: bad file descriptor"},
		{frame(stepBounding, unix.EFAULT, 7), pledgecli.ExitCapDrop, "pledge: prctl(PR_CAPBSET_DROP, 7): bad address"},
		{frame(stepCapset, unix.EPERM, 0), pledgecli.ExitCapDrop, "pledge: capset: clearing the capability sets failed: operation not permitted"},
		{frame(stepLimit, unix.EINVAL, unix.RLIMIT_CORE), pledgecli.ExitFailure, "pledge: setrlimit(RLIMIT_CORE): invalid argument"},
		// Printed as it is by handshake, as Rlimit.apply prints it.
		{frame(stepLimitOptional, unix.EINVAL, unix.RLIMIT_CORE), pledgecli.ExitFailure, "setrlimit(RLIMIT_CORE): invalid argument"},
		{frame(stepNoNewPrivs, unix.EINVAL, 0), pledgecli.ExitPledge, "pledge: pledge: setting no_new_privs failed: invalid argument"},
		{frame(stepPledge, unix.EINVAL, 0), pledgecli.ExitPledge, "pledge: pledge: installing the seccomp filter failed: invalid argument"},
		{frame(stepExecCheck, unix.ENOENT, 1), pledgecli.ExitExec, "pledge: /lib/ld.so (the interpreter of /bin/x): no such file or directory"},
		{frame('?', unix.EIO, 0), pledgecli.ExitFailure, "pledge: bug: unknown step '?' failed in the child: input/output error"},
		{[]byte{stepLimit}, pledgecli.ExitFailure, "pledge: bug: short step frame from the child"},
	} {
		le := l.stepError(spec, c.payload)
		if le.Code != c.code || le.Msg != c.msg {
			t.Errorf("step %q: code %d, %q; want %d, %q", c.payload[0], le.Code, le.Msg, c.code, c.msg)
		}
	}
}
