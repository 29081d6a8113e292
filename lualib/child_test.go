package lualib

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/vow-sandbox/vow/internal/testutil"
	lua "github.com/yuin/gopher-lua"
)

// Tests here change the process irreversibly (exit, exec, ids, hard
// limits, root directory, deadly signals), so their Lua part runs in a
// re-executed test binary.

// childLua runs code in the child with the test library loaded; a Lua
// error ends the child with status 1 and the message on stderr.
func childLua(t *testing.T, code string) {
	t.Helper()
	L, _ := newTestState(t, nil)
	if err := L.DoString(code); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	reportCases(t, L)
}

func TestExitInChild(t *testing.T) {
	tests := []struct {
		name, code string
		want       int
	}{
		{"code", `unix.exit(42)`, 42},
		{"default 0", `unix.exit()`, 0},
		{"low 8 bits", `unix.exit(256 + 7)`, 7},
		{"no pcall unwinding", `pcall(function() unix.exit(5) end) unix.exit(6)`, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if testutil.InChild(t) {
				childLua(t, tt.code)
				os.Exit(99)
			}
			res := testutil.RunChild(t, nil)
			if res.ExitCode != tt.want {
				t.Errorf("exit status %d, want %d (stderr %q)", res.ExitCode, tt.want, res.Stderr)
			}
		})
	}
}

func TestExitFlushesBufferedIO(t *testing.T) {
	if testutil.InChild(t) {
		L := lua.NewState()
		OpenUnix(L, nil)
		if err := L.DoString(`
			io.stdout:setvbuf("full")
			io.write("buffered stdout\n")
			local f = assert(io.open(os.getenv("OUT"), "w"))
			f:setvbuf("full", 65536)
			f:write("buffered file\n")
			unix.exit(3)`); err != nil {
			os.Stderr.WriteString(err.Error())
		}
		os.Exit(99)
	}
	out := t.TempDir() + "/out"
	res := testutil.RunChild(t, &testutil.Options{Env: []string{"OUT=" + out}})
	if res.ExitCode != 3 {
		t.Fatalf("exit %d, stderr %q", res.ExitCode, res.Stderr)
	}
	if !strings.Contains(res.Stdout, "buffered stdout\n") {
		t.Errorf("stdout %q lost the buffered write", res.Stdout)
	}
	if data, _ := os.ReadFile(out); string(data) != "buffered file\n" {
		t.Errorf("file holds %q, want the buffered write", data)
	}
}

func TestExecveInChild(t *testing.T) {
	if testutil.InChild(t) {
		childLua(t, `
			local fd = assert(unix.open("/dev/null"))   -- not close-on-exec
			unix.execve("/bin/sh", {"sh", "-c", "echo argv0=$0 foo=$FOO; test -e /proc/self/fd/" .. fd .. " && echo inherited; exit 7"},
				{"FOO=bar"})
			error("execve returned")`)
		os.Exit(99)
	}
	res := testutil.RunChild(t, nil)
	if res.ExitCode != 7 || res.Stdout != "argv0=sh foo=bar\ninherited\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", res.ExitCode, res.Stdout, res.Stderr)
	}
}

func TestExecveDefaultsInChild(t *testing.T) {
	if testutil.InChild(t) {
		childLua(t, `unix.execve("/bin/sh") error("execve returned")`)
		os.Exit(99)
	}
	// argv defaults to {prog}, env to the current environment; sh reads
	// its script from stdin.
	res := testutil.RunChild(t, &testutil.Options{
		Env:   []string{"VOW_MARK=inherited"},
		Stdin: strings.NewReader(`echo "$0 $VOW_MARK"; exit 4`),
	})
	if res.ExitCode != 4 || res.Stdout != "/bin/sh inherited\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", res.ExitCode, res.Stdout, res.Stderr)
	}
}

func TestSetuidInChild(t *testing.T) {
	if testutil.InChild(t) {
		childLua(t, `
			case("drop root", function()
				eq(unix.setgid(65534), true)
				eq(unix.setuid(65534), true)
				eq(unix.getuid(), 65534); eq(unix.geteuid(), 65534)
				eq(unix.getgid(), 65534); eq(unix.getegid(), 65534)
				fails("EPERM", "setuid", unix.setuid(0))
				fails("EPERM", "setgid", unix.setgid(0))
				fails("EACCES", "open", unix.open("/etc/shadow"))
			end)`)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	res := testutil.RunChild(t, nil)
	if res.ExitCode != 0 {
		t.Errorf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
}

func TestSetresuidInChild(t *testing.T) {
	if testutil.InChild(t) {
		childLua(t, `
			case("setresuid keeps a saved id", function()
				eq(unix.setresgid(65534, 65534, -1), true)
				eq(unix.setresuid(65534, 65534, 0), true)
				eq(unix.geteuid(), 65534)
				eq(unix.setresuid(-1, 0, -1), true, "back through the saved id")
				eq(unix.geteuid(), 0)
			end)`)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if res := testutil.RunChild(t, nil); res.ExitCode != 0 {
		t.Errorf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
}

func TestSetrlimitInChild(t *testing.T) {
	if testutil.InChild(t) {
		childLua(t, `
			case("lower both limits, raising the hard one fails", function()
				eq(unix.setrlimit(unix.RLIMIT_NOFILE, 64), true, "hard defaults to soft")
				local s, h = unix.getrlimit(unix.RLIMIT_NOFILE)
				eq(s, 64); eq(h, 64)
				if unix.geteuid() ~= 0 then
					fails("EPERM", "setrlimit", unix.setrlimit(unix.RLIMIT_NOFILE, 64, 128))
				end
				eq(unix.setrlimit(unix.RLIMIT_NOFILE, 32, 64), true)
				eq(unix.getrlimit(unix.RLIMIT_NOFILE), 32)
			end)
			case("EMFILE past RLIMIT_NOFILE", function()
				local fds, err = {}
				for i = 1, 100 do
					local fd, e = unix.open("/dev/null")
					if not fd then err = e break end
					fds[#fds + 1] = fd
				end
				truthy(err, "ran out")
				eq(err:name(), "EMFILE")
				for _, fd in ipairs(fds) do unix.close(fd) end
			end)
			case("EFBIG past RLIMIT_FSIZE", function()
				eq(unix.setrlimit(unix.RLIMIT_FSIZE, 4096, -1), true)
				local fd = assert(unix.open(TMP .. "/big", {unix.O_WRONLY, unix.O_CREAT}))
				eq(unix.write(fd, string.rep("x", 4096)), 4096)
				fails("EFBIG", "write", unix.write(fd, "y"))
				unix.close(fd)
			end)
			case("unlimited is -1", function()
				eq(unix.setrlimit(unix.RLIMIT_CPU, -1, -1), true)
				local s, h = unix.getrlimit(unix.RLIMIT_CPU)
				eq(s, -1); eq(h, -1)
			end)`)
		return
	}
	res := testutil.RunChild(t, nil)
	if res.ExitCode != 0 {
		t.Errorf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	// once more as nobody, where the hard limit really cannot go up
	if os.Geteuid() == 0 {
		if res := testutil.RunChild(t, &testutil.Options{UID: testutil.Nobody, GID: testutil.Nobody}); res.ExitCode != 0 {
			t.Errorf("as nobody: exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
		}
	}
}

func TestChrootInChild(t *testing.T) {
	if testutil.InChild(t) {
		childLua(t, `
			case("chroot", function()
				spit(TMP .. "/marker", "inside")
				eq(unix.chroot(TMP), true)
				assert(unix.chdir("/"))
				eq(slurp("/marker"), "inside")
				fails("ENOENT", "stat", unix.stat(TMP))
				fails("ENOENT", "chroot", unix.chroot("/nonexistent"))
			end)`)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if res := testutil.RunChild(t, nil); res.ExitCode != 0 {
		t.Errorf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
}

// TestRaiseInChild: a signal the script sends itself acts as the kernel
// default would, although the Go runtime catches most signals.
func TestRaiseInChild(t *testing.T) {
	tests := []struct {
		name string
		code string
		sig  syscall.Signal
	}{
		{"raise SIGUSR1", `unix.raise(unix.SIGUSR1)`, syscall.SIGUSR1},
		{"raise SIGTERM", `unix.raise(unix.SIGTERM)`, syscall.SIGTERM},
		{"raise SIGALRM", `unix.raise(unix.SIGALRM)`, syscall.SIGALRM},
		{"raise SIGABRT", `unix.raise(unix.SIGABRT)`, syscall.SIGABRT},
		{"kill self SIGUSR2", `unix.kill(unix.getpid(), unix.SIGUSR2) unix.nanosleep(5)`, syscall.SIGUSR2},
		{"kill self SIGINT", `unix.kill(unix.getpid(), unix.SIGINT) unix.nanosleep(5)`, syscall.SIGINT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if testutil.InChild(t) {
				childLua(t, tt.code)
				os.Exit(99)
			}
			res := testutil.RunChild(t, nil)
			if res.Signal != tt.sig {
				t.Errorf("child ended with exit %d signal %v, want signal %v (stderr %q)", res.ExitCode, res.Signal, tt.sig, res.Stderr)
			}
		})
	}
}

// TestIgnoredSignalsInChild: signals whose default is to ignore, and
// SIGPIPE (ignored by vow, like redbean), do not end the script.
func TestIgnoredSignalsInChild(t *testing.T) {
	if testutil.InChild(t) {
		childLua(t, `
			case("harmless signals", function()
				eq(unix.raise(unix.SIGCHLD), 0)
				eq(unix.raise(unix.SIGWINCH), 0)
				eq(unix.raise(unix.SIGURG), 0)
				eq(unix.raise(unix.SIGPIPE), 0)
				unix.nanosleep(0, 50e6)
			end)
			case("EPIPE on stdout is an error, not a death", function()
				local r, w = assert(unix.pipe())
				assert(unix.dup(w, 1))
				unix.close(r); unix.close(w)
				fails("EPIPE", "write", unix.write(1, "x"))
				assert(unix.dup(2, 1))
			end)`)
		return
	}
	if res := testutil.RunChild(t, nil); res.ExitCode != 0 {
		t.Errorf("exit %d signal %v\n%s%s", res.ExitCode, res.Signal, res.Stdout, res.Stderr)
	}
}

// TestSessionsInChild: the test binary's child is not a group leader, so
// it can make a new group or a new session.
func TestSessionsInChild(t *testing.T) {
	tests := []struct{ name, code string }{
		{"setpgrp", `
			case("setpgrp", function()
				truthy(unix.getpgrp() ~= unix.getpid(), "not a leader yet")
				eq(unix.setpgrp(), 0)
				eq(unix.getpgrp(), unix.getpid())
				eq(unix.getpgid(0), unix.getpid())
				fails("EPERM", "setsid", unix.setsid())
			end)`},
		{"setsid", `
			case("setsid", function()
				local pid = unix.getpid()
				eq(unix.setsid(), pid)
				eq(unix.getsid(0), pid)
				eq(unix.getpgrp(), pid)
				fails("EPERM", "setsid", unix.setsid())
				fails("EPERM", "setpgrp", unix.setpgrp())
			end)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if testutil.InChild(t) {
				childLua(t, tt.code)
				return
			}
			if res := testutil.RunChild(t, nil); res.ExitCode != 0 {
				t.Errorf("exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
			}
		})
	}
}
