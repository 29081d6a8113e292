package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/testutil"
)

// execCaseEnv makes the re-executed test binary run one Cmd.Exec (see
// init below); its value is the JSON of an execCase.
const execCaseEnv = "VOW_TEST_EXEC_CASE"

// execCase is one Cmd.Exec run by a re-executed test binary.
type execCase struct {
	InPlace  bool // execInPlace, or launchSpec.run on a locked thread
	Args     []string
	Promises *string // nil: "stdio rpath"
	Unveil   []UnveilRule
	Auto     bool
	Log      bool
	Nice     bool
	Limits   []Rlimit
	NoGoSide bool // the watcher cannot start its Go side (as without /proc)
}

// init runs before TestMain: in a test binary started with execCaseEnv
// it is Exec's caller, as the pledge command's main is.
func init() {
	v, ok := os.LookupEnv(execCaseEnv)
	if !ok {
		return
	}
	var c execCase
	if err := json.Unmarshal([]byte(v), &c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(99)
	}
	os.Unsetenv(execCaseEnv)
	execInPlaceSupported = c.InPlace
	if c.NoGoSide {
		watchExe = "/nonexistent/vow-watch-go-side"
	}
	if c.Promises == nil {
		p := "stdio rpath"
		c.Promises = &p
	}
	cmd := &Cmd{Name: "exec-test", Path: c.Args[0], Args: c.Args, Promises: c.Promises, ImplicitPromises: true,
		Unveil: c.Unveil, AutoUnveil: c.Auto, DropCapabilities: true, NormalizeFDs: true, Nice: c.Nice, Rlimits: c.Limits}
	if c.Log {
		cmd.Log = os.Stderr
	}
	err := cmd.Exec()
	fmt.Fprintln(os.Stderr, err)
	if le, ok := err.(*LaunchError); ok {
		os.Exit(le.Code)
	}
	os.Exit(98)
}

// TestExecWaysAgree runs the same Cmd.Exec launches both ways (execInPlace
// and launchSpec.run): same output, same errors, same exit status.
func TestExecWaysAgree(t *testing.T) {
	if LandlockABI() == 0 {
		t.Skip("needs Landlock")
	}
	if !ExecCanLog(os.Stderr) {
		t.Skip("Exec logs only on x86-64 without cgo (ExecCanLog)")
	}
	probe := testutil.Probe(t)
	dir := testutil.PublicDir(t)
	os.WriteFile(dir+"/f", []byte("x"), 0o644)
	os.WriteFile(dir+"/garbage", []byte("garbage\x00\x01"), 0o755)
	proc := "stdio rpath proc"
	capBnd := "CapBnd:" // as nobody: whatever it was
	if os.Geteuid() == 0 {
		capBnd = "CapBnd: 0000000000000000"
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		c        execCase
		code     int
		out, log string
		nolog    bool // stderr must be empty
	}{
		{c: execCase{Args: []string{probe, "read", dir + "/f"}, Unveil: []UnveilRule{{Path: dir, Perms: "r"}}, Auto: true}, out: "ok"},
		{c: execCase{Args: []string{probe, "read", "/etc/passwd"}, Unveil: []UnveilRule{{Path: dir, Perms: "r"}}, Auto: true}, out: "EACCES"},
		{c: execCase{Args: []string{probe, "inet"}}, out: "EPERM"},
		{c: execCase{Args: []string{probe, "inet"}, Log: true}, out: "EPERM", log: "pledge promise 'inet' to allow"},
		// Without its Go side the watcher still answers, EPERM, unlogged.
		{c: execCase{Args: []string{probe, "repeat", "3", "inet"}, Log: true, NoGoSide: true}, out: "EPERM\nEPERM\nEPERM", nolog: true},
		{c: execCase{Args: []string{probe, "killself"}}, out: "ok"},
		{c: execCase{Args: []string{probe, "exit", "42"}}, code: 42},
		// The bounding set can be emptied only with CAP_SETPCAP (root).
		{c: execCase{Args: []string{probe, "status", "CapEff", "NoNewPrivs"}}, out: "CapEff: 0000000000000000\nNoNewPrivs: 1"},
		{c: execCase{Args: []string{probe, "status", "CapBnd"}}, out: capBnd},
		{c: execCase{Args: []string{probe, "sched"}, Nice: true, Promises: &proc}, out: "nice 19 (err <nil>) policy 5"},
		{c: execCase{Args: []string{probe, "rlimits"}, Limits: []Rlimit{{Resource: unix.RLIMIT_NOFILE, Cur: 40, Max: 40}}}, out: "nofile 40/40"},
		// The program is not unveiled: the exec check refuses it.
		{c: execCase{Args: []string{probe, "getpid"}, Unveil: []UnveilRule{{Path: dir, Perms: "r"}}}, code: 127,
			log: "exec-test: " + probe + ": permission denied; if unveil is in use"},
		{c: execCase{Args: []string{dir + "/missing"}}, code: 10, log: "exec-test: " + dir + "/missing: no such file or directory"},
		// A failed execve after the filter, without stdio to report it.
		{c: execCase{Args: []string{dir + "/garbage"}, Promises: new(string)}, code: 127, log: "exec-test: " + dir + "/garbage: exec format error"},
	} {
		for _, inPlace := range []bool{true, false} {
			c.c.InPlace = inPlace
			spec, _ := json.Marshal(c.c)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			cmd := exec.CommandContext(ctx, self)
			cmd.Env = append(os.Environ(), execCaseEnv+"="+string(spec))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			timedOut := ctx.Err() == context.DeadlineExceeded
			cancel()
			if timedOut {
				t.Fatalf("in place %v, %q: did not finish within 30s; stderr %q", inPlace, c.c.Args, stderr.String())
			}
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				ws := ee.Sys().(syscall.WaitStatus)
				code = ws.ExitStatus()
				if ws.Signaled() {
					code = -int(ws.Signal())
				}
			} else if err != nil {
				t.Fatal(err)
			}
			out := strings.TrimSpace(stdout.String())
			if code != c.code || !strings.Contains(out, c.out) || !strings.Contains(stderr.String(), c.log) || (c.nolog && stderr.Len() > 0) {
				t.Errorf("in place %v, %q: exit %d, stdout %q, stderr %q; want %d, %q, %q", inPlace, c.c.Args, code, out, stderr.String(), c.code, c.out, c.log)
			}
		}
	}
}
