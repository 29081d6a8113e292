package sandbox

import (
	"bytes"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"

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
