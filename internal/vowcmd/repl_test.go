package vowcmd

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/sandbox"
)

// TestREPLNewcomer is issue 7's "done when": on a terminal, `vow` with no
// arguments starts the REPL; unix.pledge("stdio") changes the prompt and
// io.open("/etc/hosts") then fails clearly. The vow part runs in a
// re-executed test binary whose controlling terminal is a pseudo-terminal.
func TestREPLNewcomer(t *testing.T) {
	if testutil.InChild(t) {
		fmt.Printf("vow exit status %d\n", Script(nil))
		// Exit only once the parent has read everything (it types
		// Enter): output written just before the terminal's last user
		// goes away can be lost on the master side.
		bufio.NewReader(os.Stdin).ReadString('\n')
		return
	}
	if err := sandbox.SeccompAvailable(); err != nil {
		t.Skipf("seccomp filters are not available in this kernel: %v", err)
	}
	home := t.TempDir()
	pty := testutil.NewPTY(t)
	cmd := testutil.Command(t, "HOME="+home)
	if err := pty.Start(cmd); err != nil {
		t.Fatal(err)
	}
	defer pty.Wait(t, cmd)

	pty.Expect("defaults to PLEDGE_PENALTY_RETURN_EPERM")
	pty.Expect("vow> ")
	pty.Send(`unix.pledge("stdio")` + "\r")
	pty.Expect("true\n")
	pty.Expect("vow[stdio]> ")
	pty.Send(`io.open("/etc/hosts")` + "\r")
	pty.Expect(`nil	"open /etc/hosts: operation not permitted"`)
	pty.Expect(`vow: EPERM under pledge("stdio")`)
	pty.Expect("vow[stdio]> ")
	pty.Send("\x04")
	pty.Expect("vow exit status 0\n")
	pty.Send("\r")

	hist := filepath.Join(home, ".vow_history")
	data, err := os.ReadFile(hist)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	if want := "unix.pledge(\"stdio\")\nio.open(\"/etc/hosts\")\n"; !strings.Contains(string(data), want) {
		t.Errorf("~/.vow_history is %q, want it to hold %q", data, want)
	}
	if st, err := os.Stat(hist); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("~/.vow_history: mode %v, error %v; want 0600", st.Mode().Perm(), err)
	}
}
