package host

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/sandbox"
)

func TestNewStateLibraries(t *testing.T) {
	tests := []struct {
		libs    Library
		present []string
		absent  []string
	}{
		{0, []string{"print", "pairs", "pcall", "string", "table", "math", "coroutine", "load"},
			[]string{"io", "os", "dofile", "loadfile", "require", "module", "package", "debug", "channel", "unix"}},
		{LibBase, []string{"print"}, []string{"string", "table", "io"}},
		{LibSafe | LibIO, []string{"io", "dofile", "loadfile"}, []string{"os", "require"}},
		{LibSafe | LibPackage | LibUnix, []string{"require", "package", "unix"}, []string{"io", "os"}},
		{LibStandard, []string{"io", "os", "debug", "channel", "require", "dofile"}, []string{"unix"}},
	}
	for _, tt := range tests {
		L, err := NewState(&StateOptions{Libraries: tt.libs})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range tt.present {
			if L.GetGlobal(name) == lua.LNil {
				t.Errorf("libraries %#x: %s missing", tt.libs, name)
			}
		}
		for _, name := range tt.absent {
			if L.GetGlobal(name) != lua.LNil {
				t.Errorf("libraries %#x: %s present", tt.libs, name)
			}
		}
		L.Close()
	}
	L, _ := NewState(&StateOptions{Libraries: LibSafe | LibPackage | LibUnix})
	defer L.Close()
	if err := L.DoString(`assert(require("unix") == unix)`); err != nil {
		t.Error(err)
	}
}

func TestNewStateLimits(t *testing.T) {
	t.Run("instructions", func(t *testing.T) {
		L, _ := NewState(&StateOptions{Context: LimitInstructions(context.Background(), 100000)})
		defer L.Close()
		if err := L.DoString(`local x = 0 for i = 1, 1000 do x = x + i end`); err != nil {
			t.Errorf("a short loop within the budget: %v", err)
		}
		err := L.DoString(`while true do end`)
		if err == nil || !strings.Contains(err.Error(), "instruction limit exceeded") {
			t.Errorf("infinite loop: %v", err)
		}
		// pcall cannot swallow the limit for long: every instruction fails.
		err = L.DoString(`while true do pcall(function() while true do end end) end`)
		if err == nil || !strings.Contains(err.Error(), "instruction limit exceeded") {
			t.Errorf("loop around pcall: %v", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		L, _ := NewState(&StateOptions{Context: ctx})
		defer L.Close()
		start := time.Now()
		err := L.DoString(`while true do end`)
		if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") || time.Since(start) > 2*time.Second {
			t.Errorf("infinite loop with a 100ms deadline: %v after %v", err, time.Since(start))
		}
	})
	t.Run("per call", func(t *testing.T) {
		L, _ := NewState(nil)
		defer L.Close()
		L.SetContext(LimitInstructions(context.Background(), 50))
		if err := L.DoString(`for i = 1, 100 do end`); err == nil {
			t.Error("100 iterations within 50 instructions")
		}
		L.SetContext(LimitInstructions(context.Background(), 1000))
		if err := L.DoString(`for i = 1, 100 do end`); err != nil {
			t.Errorf("a fresh budget: %v", err)
		}
		if ctx := LimitInstructions(context.Background(), 0); ctx.Err() != nil {
			t.Errorf("Err before Done was called: %v", ctx.Err())
		}
	})
}

func TestNewStatePledge(t *testing.T) {
	if testutil.InChild(t) {
		L, err := NewState(&StateOptions{Pledge: &Policy{Promises: "stdio"}})
		if err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(3)
		}
		if err := L.DoString(`return 1 + 1`); err != nil {
			os.Exit(4)
		}
		if _, err := os.Open("/etc/passwd"); !errors.Is(err, syscall.EPERM) {
			os.Stderr.WriteString("open after the pledge: " + errString(err))
			os.Exit(5)
		}
		os.Exit(0)
	}
	res := testutil.RunChild(t, nil)
	switch {
	case cgoEnabled && sandbox.LandlockABI() > 0 && sandbox.LandlockABI() < 8:
		// A cgo binary cannot unveil all its threads on this kernel: the
		// pledge must fail with an error that says so and what to do.
		if res.ExitCode != 3 || !strings.Contains(res.Stderr, "build with CGO_ENABLED=0") {
			t.Errorf("child (cgo): exit %d, stderr %q; want the cgo explanation", res.ExitCode, res.Stderr)
		}
	case res.ExitCode != 0:
		t.Errorf("child: exit %d, stderr %q", res.ExitCode, res.Stderr)
	}
	if _, err := NewState(&StateOptions{Pledge: &Policy{Promises: "stdio bogus"}}); err == nil || !strings.Contains(err.Error(), `unknown promise "bogus"`) {
		t.Errorf("bad promise: %v (and this process must not be pledged)", err)
	}
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}
