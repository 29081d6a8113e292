package pledgecmd_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

// TestPromises runs, for every promise, an operation it allows and one it
// does not, through the command with -V (seccomp only; unveil has its own
// tests), as the test's user and as nobody. A refused call fails with
// EPERM; the allowed one succeeds or fails the way the kernel fails it
// (ENOTTY for a terminal ioctl on a file, EINVAL for an invalid clock).
func TestPromises(t *testing.T) {
	probe := testutil.Probe(t)
	for _, nobody := range users(t) {
		t.Run(userName(nobody), func(t *testing.T) {
			f := newFixture(t, nobody)
			tmpFile := func() string {
				p, err := os.CreateTemp("/tmp", "vow-tmppath-")
				if err != nil {
					t.Fatal(err)
				}
				p.Close()
				if nobody {
					os.Chown(p.Name(), testutil.Nobody, testutil.Nobody)
				}
				t.Cleanup(func() { os.Remove(p.Name()) })
				return p.Name()
			}
			cases := []struct {
				name     string
				promises string
				args     []string
				stdin    bool // the fixture file on stdin
				want     string
			}{
				{"stdio/kill-self", "stdio", []string{"killself"}, false, "ok"},
				{"stdio/getpid", "stdio", []string{"getpid"}, false, "ok"},
				{"rpath/allowed", "stdio rpath", []string{"read", f.file}, false, "ok"},
				{"rpath/refused", "stdio", []string{"read", f.file}, false, "EPERM"},
				{"wpath/allowed", "stdio wpath", []string{"write", f.file}, false, "ok"},
				{"wpath/refused", "stdio rpath", []string{"write", f.file}, false, "EPERM"},
				{"cpath/allowed", "stdio wpath cpath", []string{"create", filepath.Join(f.dir, "new1")}, false, "ok"},
				{"cpath/refused", "stdio rpath wpath", []string{"create", filepath.Join(f.dir, "new2")}, false, "EPERM"},
				{"cpath/mkdir", "stdio cpath", []string{"mkdir", filepath.Join(f.dir, "dir1")}, false, "ok"},
				{"cpath/mkdir-refused", "stdio wpath", []string{"mkdir", filepath.Join(f.dir, "dir2")}, false, "EPERM"},
				{"dpath/allowed", "stdio dpath", []string{"mkfifo", filepath.Join(f.dir, "fifo1")}, false, "ok"},
				{"dpath/refused", "stdio cpath", []string{"mkfifo", filepath.Join(f.dir, "fifo2")}, false, "EPERM"},
				{"flock/allowed", "stdio flock", []string{"flock"}, true, "ok"},
				{"flock/refused", "stdio", []string{"flock"}, true, "EPERM"},
				{"fattr/allowed", "stdio fattr", []string{"fchmod"}, true, "ok"},
				{"fattr/refused", "stdio", []string{"fchmod"}, true, "EPERM"},
				{"inet/allowed", "stdio inet", []string{"inet"}, false, "ok"},
				{"inet/udp", "stdio inet", []string{"inet-dgram"}, false, "ok"},
				{"inet/refused", "stdio", []string{"inet"}, false, "EPERM"},
				{"anet/allowed", "stdio anet", []string{"inet"}, false, "ok"},
				{"anet/udp-refused", "stdio anet", []string{"inet-dgram"}, false, "EPERM"},
				{"unix/allowed", "stdio unix", []string{"unix"}, false, "ok"},
				{"unix/refused", "stdio inet", []string{"unix"}, false, "EPERM"},
				{"dns/allowed", "stdio dns", []string{"inet-dgram"}, false, "ok"},
				{"dns/refused", "stdio", []string{"inet-dgram"}, false, "EPERM"},
				{"tty/allowed", "stdio tty", []string{"tty"}, true, "ENOTTY"},
				{"tty/refused", "stdio", []string{"tty"}, true, "EPERM"},
				{"recvfd/allowed", "stdio recvfd", []string{"recvfd"}, false, "ok"},
				{"recvfd/refused", "stdio", []string{"recvfd"}, false, "EPERM"},
				{"sendfd/allowed", "stdio sendfd", []string{"sendfd"}, false, "ok"},
				{"sendfd/refused", "stdio", []string{"sendfd"}, false, "EPERM"},
				{"proc/fork", "stdio proc", []string{"fork"}, false, "ok"},
				{"proc/fork-refused", "stdio", []string{"fork"}, false, "EPERM"},
				{"proc/setpgid", "stdio proc", []string{"setpgid"}, false, "ok"},
				{"proc/setpgid-refused", "stdio", []string{"setpgid"}, false, "EPERM"},
				// exec is always added by the command (it must execve PROG).
				{"exec/implied", "stdio", []string{"exec", testutil.Probe(t), "getpid"}, false, "ok"},
				{"id/allowed", "stdio id", []string{"setuid"}, false, "ok"},
				{"id/refused", "stdio", []string{"setuid"}, false, "EPERM"},
				{"unveil/allowed", "stdio unveil", []string{"landlock"}, false, "ok"},
				{"unveil/refused", "stdio", []string{"landlock"}, false, "EPERM"},
				{"settime/allowed", "stdio settime", []string{"settime"}, false, "EINVAL"},
				{"settime/refused", "stdio", []string{"settime"}, false, "EPERM"},
				{"prot_exec/allowed", "stdio prot_exec", []string{"protexec"}, false, "ok"},
				{"prot_exec/refused", "stdio", []string{"protexec"}, false, "EPERM"},
				{"tmppath/allowed", "stdio tmppath", []string{"unlink", tmpFile()}, false, "ok"},
				{"tmppath/refused", "stdio", []string{"unlink", tmpFile()}, false, "EPERM"},
				{"chown/allowed", "stdio chown", []string{"fchown"}, true, "ok"},
				{"chown/refused", "stdio", []string{"fchown"}, true, "EPERM"},
				{"none/kcmp", "stdio rpath wpath cpath dpath flock fattr inet unix dns tty recvfd proc exec id unveil sendfd settime prot_exec vminfo tmppath chown anet", []string{"kcmp"}, false, "EPERM"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					o := &runOpts{nobody: nobody}
					if c.stdin {
						in, err := os.Open(f.file)
						if err != nil {
							t.Fatal(err)
						}
						defer in.Close()
						o.stdin = in
					}
					r := pledge(t, o, append([]string{"-q", "-V", "-p", c.promises, probe}, c.args...)...)
					if r.code != 0 || lastLine(r.stdout) != c.want {
						t.Errorf("pledge -p %q probe %q: exit %d, got %q, want %q; stderr:\n%s", c.promises, c.args, r.code, r.stdout, c.want, r.stderr)
					}
				})
			}
		})
	}
}

// TestPromisesUnveiled checks the promises whose effect is an automatic
// unveil (pledge.md §7.6): vminfo's /proc files, tmppath's /tmp, stdio's
// /dev/null. Landlock only comes in with a -v (or tmppath), so each case
// unveils a directory that does not matter.
func TestPromisesUnveiled(t *testing.T) {
	probe := testutil.Probe(t)
	for _, nobody := range users(t) {
		t.Run(userName(nobody), func(t *testing.T) {
			tmp, err := os.CreateTemp("/tmp", "vow-tmppath-")
			if err != nil {
				t.Fatal(err)
			}
			tmp.Close()
			defer os.Remove(tmp.Name())
			if nobody {
				os.Chown(tmp.Name(), testutil.Nobody, testutil.Nobody)
			}
			for _, c := range []struct {
				name, promises string
				args           []string
				want           string
			}{
				{"vminfo/allowed", "stdio rpath vminfo", []string{"read", "/proc/meminfo"}, "ok"},
				{"vminfo/hidden", "stdio rpath", []string{"read", "/proc/meminfo"}, "EACCES"},
				{"tmppath/unveils-tmp", "stdio rpath tmppath", []string{"read", tmp.Name()}, "ok"},
				{"tmppath/hidden", "stdio rpath", []string{"read", tmp.Name()}, "EACCES"},
				{"stdio/dev-null", "stdio wpath", []string{"write", "/dev/null"}, "ok"},
				{"rpath/etc-hidden", "stdio rpath", []string{"read", "/etc/passwd"}, "EACCES"},
			} {
				t.Run(c.name, func(t *testing.T) {
					r := pledge(t, &runOpts{nobody: nobody}, append([]string{"-q", "-v", "/var/empty-vow", "-p", c.promises, probe}, c.args...)...)
					if r.code != 0 || lastLine(r.stdout) != c.want {
						t.Errorf("pledge -p %q probe %q: exit %d, got %q, want %q; stderr:\n%s", c.promises, c.args, r.code, r.stdout, c.want, r.stderr)
					}
				})
			}
		})
	}
}

// TestKillPenalty: -k ends the program with SIGSYS, whether the kernel
// kills it (-q) or the supervising pledge does (logging), and pledge
// reports it the way a shell sees it: it dies by the same signal.
func TestKillPenalty(t *testing.T) {
	probe := testutil.Probe(t)
	for _, nobody := range users(t) {
		for _, quiet := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/quiet=%v", userName(nobody), quiet), func(t *testing.T) {
				args := []string{"-k", "-V", "-p", "stdio rpath", probe, "inet"}
				if quiet {
					args = append([]string{"-q"}, args...)
				}
				r := pledge(t, &runOpts{nobody: nobody}, args...)
				if r.sig != syscall.SIGSYS {
					t.Fatalf("pledge %q: exit %d, signal %v, want SIGSYS; stdout %q stderr:\n%s", args, r.code, r.sig, r.stdout, r.stderr)
				}
				if r.stdout != "" {
					t.Errorf("the killed call returned: %q", r.stdout)
				}
				if !quiet && !strings.Contains(r.stderr, "error: protected syscall socket") {
					t.Errorf("no violation line before the kill:\n%s", r.stderr)
				}
			})
		}
	}
	t.Run("no-stdio", func(t *testing.T) {
		// Without stdio the Go runtime's first calls are refused.
		for _, quiet := range []bool{true, false} {
			args := []string{"-k", "-V", "-p", "", probe, "getpid"}
			if quiet {
				args = append([]string{"-q"}, args...)
			}
			if r := pledge(t, nil, args...); r.sig != syscall.SIGSYS {
				t.Errorf("pledge %q: exit %d, signal %v, want SIGSYS", args, r.code, r.sig)
			}
		}
	})
	t.Run("error-promise", func(t *testing.T) {
		// "error" makes violations fail with EPERM even under -k.
		for _, quiet := range []bool{true, false} {
			args := []string{"-k", "-V", "-p", "stdio rpath error", probe, "inet"}
			if quiet {
				args = append([]string{"-q"}, args...)
			}
			if r := pledge(t, nil, args...); r.code != 0 || lastLine(r.stdout) != "EPERM" {
				t.Errorf("pledge %q: exit %d signal %v stdout %q, want EPERM", args, r.code, r.sig, r.stdout)
			}
		}
	})
	t.Run("caught-SIGSYS", func(t *testing.T) {
		// A program that catches SIGSYS cannot survive a kill either way.
		r := pledge(t, nil, "-k", "-V", "-p", "stdio rpath", probe, "catchsys", "inet")
		if r.sig != syscall.SIGSYS || strings.Contains(r.stdout, "caught") {
			t.Errorf("exit %d signal %v stdout %q, want SIGSYS; stderr:\n%s", r.code, r.sig, r.stdout, r.stderr)
		}
		// The kernel's kill cannot be caught at all.
		r = pledge(t, nil, "-q", "-k", "-V", "-p", "stdio rpath", probe, "catchsys", "inet")
		if r.sig != syscall.SIGSYS {
			t.Errorf("-q: exit %d signal %v stdout %q, want SIGSYS", r.code, r.sig, r.stdout)
		}
	})
}

// TestViolationLog checks the log lines: upstream's format plus the pid of
// the program, one line per distinct system call and promise however
// often the call is made, nothing with -q.
func TestViolationLog(t *testing.T) {
	probe := testutil.Probe(t)
	arch := sysno.Native()
	nr, _ := arch.Number("socket")
	kcmp, _ := arch.Number("kcmp")
	for _, nobody := range users(t) {
		t.Run(userName(nobody), func(t *testing.T) {
			r := pledge(t, &runOpts{nobody: nobody}, "-V", "-p", "stdio rpath", probe, "pid", "repeat", "3", "inet")
			var pid int
			if _, err := fmt.Sscanf(r.stdout, "pid %d\n", &pid); err != nil || r.code != 0 {
				t.Fatalf("exit %d, stdout %q: %v", r.code, r.stdout, err)
			}
			if got := strings.Count(r.stdout, "EPERM"); got != 3 {
				t.Errorf("want 3 refused calls, got stdout %q", r.stdout)
			}
			var socketLines []string
			for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
				if strings.Contains(line, "syscall socket") {
					socketLines = append(socketLines, line)
				}
			}
			var want []string
			// Only the promises that allow this socket(AF_INET,
			// SOCK_STREAM) are named: not 'unix'.
			for _, p := range []string{"inet", "dns", "anet"} {
				want = append(want, fmt.Sprintf("error: protected syscall socket (ord=%03x); pledge promise '%s' to allow (pid %d)", nr, p, pid))
			}
			if strings.Join(socketLines, "\n") != strings.Join(want, "\n") {
				t.Errorf("socket lines:\n%s\nwant:\n%s", strings.Join(socketLines, "\n"), strings.Join(want, "\n"))
			}
			// PROG runs in pledge's place, as with -q (the watcher
			// logs; internal/pledgecmd's doc).
			if pid != r.pid {
				t.Errorf("the program has pid %d, want pledge's own %d", pid, r.pid)
			}
		})
	}
	t.Run("bad-syscall", func(t *testing.T) {
		r := pledge(t, nil, "-V", "-p", "stdio", probe, "pid", "kcmp")
		var pid int
		fmt.Sscanf(r.stdout, "pid %d\n", &pid)
		want := fmt.Sprintf("error: bad syscall kcmp (ord=%03x) (pid %d)", kcmp, pid)
		if !strings.Contains(r.stderr, want+"\n") {
			t.Errorf("stderr:\n%s\nwant the line %q", r.stderr, want)
		}
	})
	t.Run("quiet", func(t *testing.T) {
		r := pledge(t, nil, "-q", "-V", "-p", "stdio", probe, "pid", "inet")
		var pid int
		fmt.Sscanf(r.stdout, "pid %d\n", &pid)
		if r.stderr != "" || lastLine(r.stdout) != "EPERM" {
			t.Errorf("-q: stdout %q, stderr %q; want EPERM and nothing logged", r.stdout, r.stderr)
		}
		if pid != r.pid {
			t.Errorf("-q: the program has pid %d, pledge had %d; -q must exec in place", pid, r.pid)
		}
	})
	t.Run("format", func(t *testing.T) {
		// Every line of a run is in one of upstream's two forms.
		r := pledge(t, nil, "-p", "stdio", probe, "inet")
		re := regexp.MustCompile(`^error: (protected syscall [a-z0-9_]+ \(ord=[0-9a-f]{3}\); pledge promise '[a-z_]+' to allow|bad syscall [a-z0-9_]+ \(ord=[0-9a-f]{3}\)) \(pid [0-9]+\)$`)
		for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
			if !re.MatchString(line) {
				t.Errorf("line %q is not in upstream's format plus the pid", line)
			}
		}
	})
}
