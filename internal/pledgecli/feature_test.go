package pledgecli

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
	"testing"

	"github.com/vow-sandbox/vow/internal/testutil"
)

func TestFeatureTest(t *testing.T) {
	landlock := ExitFailure
	if LandlockABI() > 0 {
		landlock = ExitOK
	}
	seccomp := ExitFailure
	if SeccompAvailable() {
		seccomp = ExitOK
	}
	tests := []struct {
		name, stderr string
		code         int
	}{
		{"pledge", "", seccomp},
		{"unveil", "", landlock},
		{"Pledge", "Pledge: unknown test (use -T pledge or -T unveil)\n", ExitTestUnknown},
		{"", ": unknown test (use -T pledge or -T unveil)\n", ExitTestUnknown},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		if code := FeatureTest(&stderr, tt.name); code != tt.code || stderr.String() != tt.stderr {
			t.Errorf("FeatureTest(%q) = %d, %q; want %d, %q", tt.name, code, stderr.String(), tt.code, tt.stderr)
		}
	}
	t.Logf("seccomp: %v, Landlock ABI: %d", SeccompAvailable(), LandlockABI())
}

func TestStdinTTYName(t *testing.T) {
	if testutil.InChild(t) {
		fmt.Print(StdinTTYName())
		return
	}
	// Not a terminal: an empty pipe.
	if res := childOK(t, &testutil.Options{Stdin: bytes.NewReader(nil)}); res.Stdout != "" && !strings.HasPrefix(res.Stdout, "PASS") {
		t.Errorf("pipe on stdin: StdinTTYName = %q, want \"\"", res.Stdout)
	}
	// A terminal: a new pseudo-terminal.
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	defer ptmx.Close()
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	pts, err := os.OpenFile(name, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("cannot open %s: %v", name, err)
	}
	defer pts.Close()
	res := childOK(t, &testutil.Options{Stdin: pts})
	if !strings.HasPrefix(res.Stdout, name) {
		t.Errorf("terminal on stdin: StdinTTYName = %q, want %q", res.Stdout, name)
	}
}
