package pledgecmd_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vow-sandbox/vow/internal/pledgecli"
	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/sandbox"
)

// TestExitCodes checks the command's own exit statuses and messages
// (pledge.md §7.12), for failures found before and inside the launcher.
func TestExitCodes(t *testing.T) {
	probe := testutil.Probe(t)
	dir := testutil.PublicDir(t)
	noexec := filepath.Join(dir, "noexec")
	os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644)
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, []byte("this is not a program\n"), 0o755)
	long := strings.Repeat("stdio ", 50)
	cases := []struct {
		name       string
		args       []string
		code       int
		stdout     string // substring
		stderr     string // substring
		nobody     bool
		skipNobody bool     // (root-only case)
		env        []string // added to the environment
	}{
		{name: "help", args: []string{"-h"}, code: 0, stdout: "usage: pledge [-hVqknDN]"},
		{name: "help-defaults", args: []string{"-h"}, code: 0, stdout: "[default: 64]"},
		{name: "unknown-option", args: []string{"-x", "ls"}, code: 64, stderr: "pledge: illegal option -- x\nusage: pledge"},
		{name: "missing-argument", args: []string{"-p"}, code: 64, stderr: "option requires an argument -- p"},
		{name: "missing-command", args: []string{"-p", "stdio"}, code: 64, stderr: "error: missing command\nusage: pledge"},
		{name: "bad-integer", args: []string{"-u", "abc", "ls"}, code: 1, stderr: "pledge: invalid integer: abc"},
		{name: "bad-size", args: []string{"-M", "12q", "ls"}, code: 1, stderr: "pledge: invalid size: 12q"},
		{name: "too-many-promises", args: []string{"-p", long, "ls"}, code: 1, stderr: "pledge: too many promises"},
		{name: "test-pledge", args: []string{"-T", "pledge"}, code: 0},
		{name: "test-unveil", args: []string{"-T", "unveil"}, code: 0},
		{name: "test-unknown", args: []string{"-T", "bogus"}, code: 2, stderr: "bogus: unknown test"},
		{name: "unknown-promise", args: []string{"-p", "stdoi", probe, "getpid"}, code: 21, stderr: "pledge: unknown promise 'stdoi' (did you mean 'stdio'?)\n"},
		{name: "openbsd-promise", args: []string{"-p", "stdio getpw", probe, "getpid"}, code: 21, stderr: "pledge: unknown promise 'getpw' (OpenBSD only;"},
		// A $PATH of directories this user can search: one it cannot
		// would make the answer EACCES, as execvp(3) says.
		{name: "not-found", args: []string{"vow-no-such-program"}, code: 10, stderr: "pledge: vow-no-such-program: no such file or directory (searched $PATH: /usr/bin:/bin)", env: []string{"PATH=/usr/bin:/bin"}},
		{name: "not-found-path", args: []string{filepath.Join(dir, "missing")}, code: 10, stderr: "no such file or directory"},
		{name: "not-executable", args: []string{noexec}, code: 10, stderr: "permission denied"},
		{name: "chdir", args: []string{"-c", filepath.Join(dir, "missing"), "/probe"}, code: 8, stderr: "no such file or directory"},
		{name: "chdir-empty", args: []string{"-c", "", "/probe"}, code: 8},
		{name: "chroot-unprivileged", args: []string{"-c", dir, "/probe"}, code: 9, stderr: "chroot needs root", nobody: true},
		{name: "setuid-unprivileged", args: []string{"-u", "1", probe, "ids"}, code: 17, nobody: true},
		{name: "setgid-unprivileged", args: []string{"-g", "1", probe, "ids"}, code: 13, nobody: true},
		{name: "bad-unveil-permission", args: []string{"-v", "q:/tmp", probe, "getpid"}, code: 20, stderr: "unknown permission 'q'"},
		{name: "exec-format", args: []string{"-V", garbage}, code: 127, stderr: "pledge: " + garbage + ": exec format error"},
		{name: "exec-format-quiet", args: []string{"-q", "-V", garbage}, code: 127, stderr: "pledge: " + garbage + ": exec format error"},
		// Without stdio the launcher's own report is refused by the
		// filter; the supervisor lets the launcher through.
		{name: "exec-format-no-stdio", args: []string{"-V", "-p", "", garbage}, code: 127, stderr: "pledge: " + garbage + ": exec format error"},
		{name: "exit-status", args: []string{"-V", probe, "exit", "42"}, code: 42},
		{name: "exit-status-quiet", args: []string{"-q", "-V", probe, "exit", "42"}, code: 42},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.nobody && os.Geteuid() != 0 {
				t.Skip("needs root to run as nobody")
			}
			r := pledge(t, &runOpts{nobody: c.nobody, env: c.env}, c.args...)
			if r.code != c.code || !strings.Contains(r.stdout, c.stdout) || !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("pledge %q: exit %d (want %d)\nstdout: %q (want %q)\nstderr: %q (want %q)", c.args, r.code, c.code, r.stdout, c.stdout, r.stderr, c.stderr)
			}
		})
	}
	t.Run("exec-format-no-stdio-in-place", func(t *testing.T) {
		// The filter refuses the exec'ing thread's write and
		// exit_group: another thread of pledge reports the failure
		// (sandbox.Cmd.Exec), whatever the penalty.
		for _, args := range [][]string{
			{"-q", "-V", "-p", "", garbage},
			{"-q", "-k", "-V", "-p", "", garbage},
			{"-k", "-V", "-p", "", garbage}, // supervised (Start)
		} {
			want := "pledge: " + garbage + ": exec format error\n"
			if r := pledge(t, nil, args...); r.code != 127 || r.stderr != want {
				t.Errorf("pledge %q: exit %d signal %v, stderr %q; want 127 and %q", args, r.code, r.sig, r.stderr, want)
			}
		}
	})
	t.Run("vow-exec", func(t *testing.T) {
		r := pledge(t, &runOpts{name: "vow exec"}, "-p", "stdoi", probe)
		if r.code != 21 || r.stderr != "vow exec: unknown promise 'stdoi' (did you mean 'stdio'?)\n" {
			t.Errorf("vow exec: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestIDsAndCapabilities: -u, -g (switching ids and clearing the
// supplementary groups), -D, and the capability drop, as root.
func TestIDsAndCapabilities(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	probe := testutil.Probe(t)
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"uid-gid", []string{"-u", "65534", "-g", "65534", probe, "ids"}, []string{"uid 65534 euid 65534 gid 65534 egid 65534 groups []"}},
		{"gid-only", []string{"-g", "65534", probe, "ids"}, []string{"uid 0 euid 0 gid 65534 egid 65534 groups []"}},
		{"caps-dropped", []string{probe, "status", "CapEff", "CapBnd", "NoNewPrivs"}, []string{"CapEff: 0000000000000000", "CapBnd: 0000000000000000", "NoNewPrivs: 1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := pledge(t, nil, append([]string{"-q", "-V", "-p", "stdio rpath id"}, c.args...)...)
			for _, w := range c.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("pledge %q: exit %d, stdout %q, want %q; stderr %q", c.args, r.code, r.stdout, w, r.stderr)
				}
			}
		})
	}
	t.Run("caps-kept", func(t *testing.T) {
		r := pledge(t, nil, "-q", "-V", "-D", "-p", "stdio rpath", probe, "status", "CapEff")
		if !strings.HasPrefix(r.stdout, "CapEff: ") || strings.Contains(r.stdout, "CapEff: 0000000000000000") {
			t.Errorf("-D: stdout %q, want root's capabilities kept", r.stdout)
		}
	})
}

// TestLimits: -C, -M, -O, -P, -F and their defaults, and -n.
func TestLimits(t *testing.T) {
	probe := testutil.Probe(t)
	for _, nobody := range users(t) {
		t.Run(userName(nobody), func(t *testing.T) {
			r := pledge(t, &runOpts{nobody: nobody}, "-V", probe, "rlimits")
			for _, w := range []string{"fsize 256000000/384000000", "nofile 64/64"} {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("defaults: stdout %q, want %q; stderr %q", r.stdout, w, r.stderr)
				}
			}
			r = pledge(t, &runOpts{nobody: nobody}, "-V", "-M", "2g", "-O", "100", "-P", "500", "-F", "1m", probe, "rlimits")
			for _, w := range []string{"as 2147483648/2147483648", "nofile 100/100", "nproc 500/500", "fsize 1048576/1572864"} {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("flags: stdout %q, want %q; stderr %q", r.stdout, w, r.stderr)
				}
			}
			r = pledge(t, &runOpts{nobody: nobody}, "-V", "-C", "10", probe, "rlimits")
			if mhz := pledgecli.HostCPU().BaseMHz; mhz > 0 {
				secs := (pledgecli.ReferenceMHz*10 + mhz - 1) / mhz
				if w := fmt.Sprintf("cpu %d/%d", secs, secs); !strings.Contains(r.stdout, w) {
					t.Errorf("-C 10: stdout %q, want %q", r.stdout, w)
				}
			} else if !strings.Contains(r.stderr, "setrlimit(RLIMIT_CPU)") && strings.Contains(r.stdout, "cpu inf") {
				t.Logf("-C: no base frequency; stderr %q", r.stderr)
			}
			r = pledge(t, &runOpts{nobody: nobody}, "-V", "-n", "-p", "stdio proc", probe, "sched")
			if !strings.Contains(r.stdout, "nice 19") || !strings.Contains(r.stdout, "policy 5") {
				t.Errorf("-n: stdout %q, want nice 19 and policy 5 (SCHED_IDLE); stderr %q", r.stdout, r.stderr)
			}
		})
	}
}

// TestDescriptors: descriptors the command inherits reach PROG only with
// -N, in both ways of running PROG; closed standard descriptors are
// opened on /dev/null.
func TestDescriptors(t *testing.T) {
	probe := testutil.Probe(t)
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, quiet := range []string{"-q", "-V"} {
		r := pledge(t, &runOpts{extra: []*os.File{f}}, quiet, "-V", probe, "fds")
		if lastLine(r.stdout) != "fds []" {
			t.Errorf("%s: PROG got descriptors %q, want none", quiet, r.stdout)
		}
		r = pledge(t, &runOpts{extra: []*os.File{f}}, quiet, "-V", "-N", probe, "fds")
		if !strings.HasPrefix(lastLine(r.stdout), "fds [3") {
			t.Errorf("%s -N: PROG got descriptors %q, want 3 among them", quiet, r.stdout)
		}
	}
}

// TestUnveil checks -v and the automatic unveils under Landlock: reading,
// writing, creating and executing inside and outside unveiled trees,
// symbolic links and ".." out of a tree, and -V.
func TestUnveil(t *testing.T) {
	if sandbox.LandlockABI() == 0 {
		t.Skip("Landlock is not available in this kernel")
	}
	probe := testutil.Probe(t)
	for _, nobody := range users(t) {
		t.Run(userName(nobody), func(t *testing.T) {
			in := newFixture(t, nobody)
			out := newFixture(t, nobody)
			bin := testutil.PublicDir(t)
			data, _ := os.ReadFile(probe)
			probe2 := filepath.Join(bin, "probe2")
			os.WriteFile(probe2, data, 0o755)
			link := filepath.Join(in.dir, "link")
			os.Symlink(out.file, link)
			dotdot := filepath.Join(in.dir, "..", filepath.Base(out.dir), "file")
			const p = "stdio rpath wpath cpath"
			for _, c := range []struct {
				name   string
				unveil []string
				args   []string
				want   string
			}{
				{"read-inside", []string{"r:" + in.dir}, []string{"read", in.file}, "ok"},
				{"read-default-perm", []string{in.dir}, []string{"read", in.file}, "ok"},
				{"read-outside", []string{"r:" + in.dir}, []string{"read", out.file}, "EACCES"},
				{"list-inside", []string{"r:" + in.dir}, []string{"readdir", in.dir}, "ok"},
				{"list-outside", []string{"r:" + in.dir}, []string{"readdir", out.dir}, "EACCES"},
				{"write-inside", []string{"rw:" + in.dir}, []string{"write", in.file}, "ok"},
				{"write-read-only", []string{"r:" + in.dir}, []string{"write", in.file}, "EACCES"},
				{"write-outside", []string{"rw:" + in.dir}, []string{"write", out.file}, "EACCES"},
				{"create-inside", []string{"rwc:" + in.dir}, []string{"create", filepath.Join(in.dir, "new")}, "ok"},
				{"create-without-c", []string{"rw:" + in.dir}, []string{"create", filepath.Join(in.dir, "new2")}, "EACCES"},
				{"remove-without-c", []string{"rw:" + in.dir}, []string{"unlink", in.file}, "EACCES"},
				{"symlink-out", []string{"r:" + in.dir}, []string{"read", link}, "EACCES"},
				{"dotdot-out", []string{"r:" + in.dir}, []string{"read", dotdot}, "EACCES"},
				{"exec-unveiled", []string{"rx:" + bin}, []string{"exec", probe2, "getpid"}, "ok"},
				{"exec-read-only", []string{"r:" + bin}, []string{"exec", probe2, "getpid"}, "EACCES"},
				{"exec-hidden", []string{"r:" + in.dir}, []string{"exec", probe2, "getpid"}, "EACCES"},
				{"missing-path-skipped", []string{"r:" + filepath.Join(in.dir, "missing"), "r:" + in.dir}, []string{"read", in.file}, "ok"},
			} {
				t.Run(c.name, func(t *testing.T) {
					args := []string{"-q", "-p", p}
					for _, u := range c.unveil {
						args = append(args, "-v", u)
					}
					args = append(append(args, probe), c.args...)
					r := pledge(t, &runOpts{nobody: nobody}, args...)
					if r.code != 0 || lastLine(r.stdout) != c.want {
						t.Errorf("pledge %q: exit %d, stdout %q, want %q; stderr %q", args, r.code, r.stdout, c.want, r.stderr)
					}
				})
			}
			t.Run("no-unveil", func(t *testing.T) {
				r := pledge(t, &runOpts{nobody: nobody}, "-q", "-V", "-p", p, probe, "read", out.file)
				if lastLine(r.stdout) != "ok" {
					t.Errorf("-V: stdout %q, want ok", r.stdout)
				}
			})
		})
	}
}

// TestPrograms runs dynamic programs and a "#!" script, and checks the
// issue's "done when": ls lists a directory under 'stdio rpath' once it is
// unveiled, and a loopback TCP connection fails with EPERM.
func TestPrograms(t *testing.T) {
	probe := testutil.Probe(t)
	for _, p := range []string{"/bin/true", "/bin/ls", "/bin/sh"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s is missing", p)
		}
	}
	t.Run("true", func(t *testing.T) {
		for _, q := range []string{"-q", "-V"} {
			if r := pledge(t, nil, q, "-p", "stdio", "/bin/true"); r.code != 0 {
				t.Errorf("pledge %s -p stdio /bin/true: exit %d, stderr %q", q, r.code, r.stderr)
			}
		}
	})
	t.Run("ls", func(t *testing.T) {
		// The "done when": without -v nothing is unveiled and
		// rpath reads anywhere (pledge.com's documented behaviour).
		for _, q := range [][]string{nil, {"-q"}} {
			args := append(append([]string{}, q...), "-p", "stdio rpath", "ls", "/")
			r := pledge(t, &runOpts{nobody: os.Geteuid() == 0}, args...)
			// ls asks whether stdout is a terminal (ioctl TCGETS): that
			// needs 'tty', and the log says so.
			if r.code != 0 || !strings.Contains(r.stdout, "usr\n") || strings.Contains(r.stderr, "denied") {
				t.Errorf("pledge %q: exit %d, stdout %q, stderr %q; want a listing", args, r.code, r.stdout, r.stderr)
			}
		}
		r := pledge(t, nil, "-p", "stdio rpath", "-v", "/", "ls", "/")
		if r.code != 0 || !strings.Contains(r.stdout, "usr\n") {
			t.Errorf("pledge -p 'stdio rpath' -v / ls /: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		// One -v makes its path (plus the automatic unveils) the universe.
		for _, q := range [][]string{nil, {"-q"}} {
			args := append(append([]string{}, q...), "-p", "stdio rpath", "-v", "/usr", "ls", "/")
			r = pledge(t, nil, args...)
			if r.code == 0 || !strings.Contains(r.stderr, "Permission denied") {
				t.Errorf("pledge %q: exit %d, stdout %q, stderr %q; want Landlock's refusal", args, r.code, r.stdout, r.stderr)
			}
		}
		r = pledge(t, nil, "-p", "stdio rpath", "-v", "/usr", "ls", "/usr")
		if r.code != 0 || !strings.Contains(r.stdout, "bin\n") {
			t.Errorf("pledge -p 'stdio rpath' -v /usr ls /usr: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		// tmppath alone asks for Landlock too: only /tmp (and the
		// automatic unveils) remain.
		r = pledge(t, nil, "-q", "-p", "stdio rpath tmppath", "ls", "/")
		if r.code == 0 || !strings.Contains(r.stderr, "Permission denied") {
			t.Errorf("pledge -q -p 'stdio rpath tmppath' ls /: exit %d, stdout %q, stderr %q; want Landlock's refusal", r.code, r.stdout, r.stderr)
		}
		r = pledge(t, nil, "-q", "-V", "-p", "stdio rpath tmppath", "ls", "/")
		if r.code != 0 || !strings.Contains(r.stdout, "usr\n") {
			t.Errorf("pledge -q -V -p 'stdio rpath tmppath' ls /: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("script", func(t *testing.T) {
		dir := testutil.PublicDir(t)
		script := filepath.Join(dir, "hello.sh")
		os.WriteFile(script, []byte("#!/bin/sh\necho hello from $0\nexit 7\n"), 0o755)
		for _, q := range []string{"-q", "-V"} {
			r := pledge(t, nil, q, "-p", "stdio", script)
			if r.code != 7 || r.stdout != "hello from "+script+"\n" {
				t.Errorf("pledge %s -p stdio %s: exit %d, stdout %q, stderr %q", q, script, r.code, r.stdout, r.stderr)
			}
		}
	})
	t.Run("loopback-connect", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Skip(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		r := pledge(t, nil, "-V", "-p", "stdio rpath inet", probe, "connect", ln.Addr().String())
		if lastLine(r.stdout) != "ok" {
			t.Fatalf("with inet the connection fails: %q %q", r.stdout, r.stderr)
		}
		r = pledge(t, nil, "-p", "stdio rpath", probe, "connect", ln.Addr().String())
		if lastLine(r.stdout) != "EPERM" || !strings.Contains(r.stderr, "error: protected syscall socket") {
			t.Errorf("pledge -p 'stdio rpath' connect: stdout %q, want EPERM; stderr %q", r.stdout, r.stderr)
		}
		// The examples: real clients, dynamically linked.
		host, port, _ := net.SplitHostPort(ln.Addr().String())
		if curl, err := exec.LookPath("curl"); err == nil {
			r = pledge(t, nil, "-p", "stdio rpath", curl, "-sS", "http://"+ln.Addr().String()+"/")
			if r.code != 7 || !strings.Contains(r.stderr, "pledge promise 'inet' to allow") {
				t.Errorf("curl under 'stdio rpath': exit %d (want 7, could not connect), stderr %q", r.code, r.stderr)
			}
		} else {
			t.Log("curl is not installed: its case is skipped")
		}
		for _, py := range []string{"/usr/bin/python3", "/usr/local/bin/python3"} {
			if _, err := os.Stat(py); err != nil {
				continue
			}
			code := "import socket\ntry:\n socket.create_connection((\"" + host + "\", " + port + "))\n print('connected')\nexcept OSError as e:\n print(e.errno)\n"
			r = pledge(t, nil, "-p", "stdio rpath", py, "-c", code)
			if r.code != 0 || strings.TrimSpace(r.stdout) != "1" {
				t.Errorf("%s under 'stdio rpath': exit %d, stdout %q (want errno 1, EPERM), stderr %q", py, r.code, r.stdout, r.stderr)
			}
			break
		}
	})
	t.Run("self-pid", func(t *testing.T) {
		// stdio's kill and tgkill may only name the process itself: the
		// filter must hold the pid PROG runs with.
		for _, q := range []string{"-q", "-V"} {
			if r := pledge(t, nil, q, "-V", "-p", "stdio", probe, "killself"); lastLine(r.stdout) != "ok" {
				t.Errorf("%s: kill(getpid(), 0): %q", q, r.stdout)
			}
		}
	})
}

// TestSignals: pledge forwards SIGTERM to PROG and dies by the signal that
// killed PROG.
func TestSignals(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-V", "-p", "stdio", "/bin/sh", "-c", "echo ready; exec sleep 30")
	cmd.Env = append(os.Environ(), mainEnv+"=pledge")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("read %q: %v", buf, err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("pledge ended with %v, want killed by SIGTERM (forwarded to PROG, then re-raised)", cmd.ProcessState)
	}
}

// TestChroot: -c enters the directory and looks PROG up inside it; -v
// paths are inside the jail too (pledge_test.sh 5e).
func TestChroot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	probe := testutil.Probe(t)
	jail := testutil.PublicDir(t)
	data, _ := os.ReadFile(probe)
	os.WriteFile(filepath.Join(jail, "probe"), data, 0o755)
	os.WriteFile(filepath.Join(jail, "hi"), nil, 0o644)
	for _, args := range [][]string{
		{"-q", "-V", "-c", jail, "-p", "stdio rpath", "/probe", "read", "/hi"},
		{"-q", "-v", "/", "-c", jail, "-p", "stdio rpath", "/probe", "read", "/hi"},
		{"-v", "/", "-c", jail, "-p", "stdio rpath", "/probe", "read", "/hi"},
	} {
		if r := pledge(t, nil, args...); r.code != 0 || lastLine(r.stdout) != "ok" {
			t.Errorf("pledge %q: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	// Unveiled paths are looked up inside the jail: /hi is not unveiled.
	r := pledge(t, nil, "-q", "-v", "/nothing", "-c", jail, "-p", "stdio rpath", "/probe", "read", "/hi")
	if lastLine(r.stdout) != "EACCES" {
		t.Errorf("-v /nothing: stdout %q, want EACCES", r.stdout)
	}
}

// TestSetuidInstall runs a set-user-ID root copy of the command as nobody
// (pledge.md §7.8 steps 6–16, §7.13): it refuses -u, -g and -D (exit 6)
// and runs PROG as the invoking user, without capabilities.
func TestSetuidInstall(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a set-user-ID root copy")
	}
	probe := testutil.Probe(t)
	dir := testutil.PublicDir(t)
	exe, _ := os.Executable()
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	suid := filepath.Join(dir, "pledge-suid")
	if err := os.WriteFile(suid, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(suid, 0o4755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) result {
		cmd := exec.Command(suid, args...)
		cmd.Env = append(os.Environ(), mainEnv+"=pledge")
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: testutil.Nobody, Gid: testutil.Nobody, Groups: []uint32{}}}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Run()
		return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
	}
	if r := run("-q", "-V", probe, "ids"); !strings.Contains(r.stdout, "euid 65534") {
		t.Skipf("the set-user-ID bit did not take (nosuid mount?): %q %q", r.stdout, r.stderr)
	}
	for _, q := range []string{"-q", "-V"} {
		r := run(q, "-V", "-p", "stdio rpath", probe, "ids")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "uid 65534 euid 65534 gid 65534 egid 65534") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want nobody's ids", q, r.code, r.stdout, r.stderr)
		}
		r = run(q, "-V", "-p", "stdio rpath", probe, "status", "CapEff", "CapBnd")
		if !strings.Contains(r.stdout, "CapEff: 0000000000000000") || !strings.Contains(r.stdout, "CapBnd: 0000000000000000") {
			t.Errorf("%s: capabilities %q", q, r.stdout)
		}
	}
	for _, args := range [][]string{{"-u", "1"}, {"-g", "1"}, {"-D"}} {
		r := run(append(args, probe, "ids")...)
		if r.code != 6 || !strings.Contains(r.stderr, "forbidden on setuid binaries") {
			t.Errorf("%q: exit %d, stderr %q; want 6", args, r.code, r.stderr)
		}
	}
}
