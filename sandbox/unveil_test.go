package sandbox

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/vow-sandbox/vow/internal/testutil"
	"golang.org/x/sys/unix"
)

// The tests in this file enforce rulesets, which cannot be undone, so each
// case runs in a re-executed test binary (testutil) on a fixture tree of
// its own. Top-level test names must not be prefixes of one another: the
// child selects its test with -test.run, whose first part is only
// anchored at the start.

const (
	fixtureEnv = "VOW_UNVEIL_FIXTURE"
	childOK    = "vow-unveil-child-ok"
)

// users are who the kernel cases run as: root, and an unprivileged user.
var users = []struct {
	name string
	uid  uint32
}{
	{"root", 0},
	{"nobody", testutil.Nobody},
}

// fixture is the tree every child starts with:
//
//	jail/ok.txt            "hello"
//	jail/sub/inner.txt     "inner"
//	jail/escape        ->  ../garden
//	garden/secret.txt      "12345"
//	garden/to_jail     ->  ../jail/ok.txt
//	heaven/verysecret.txt  "heaven"
//	empty/
//	file.txt               "file"
//	bin/
type fixture struct{ root string }

// p returns the fixture path rel without cleaning it, so ".." stays for
// the kernel to resolve.
func (fx fixture) p(rel string) string { return fx.root + "/" + rel }

func makeFixture(t *testing.T, root string) fixture {
	t.Helper()
	fx := fixture{root}
	mustWrite(t, fx.p("jail/ok.txt"), "hello")
	mustWrite(t, fx.p("jail/sub/inner.txt"), "inner")
	mustWrite(t, fx.p("garden/secret.txt"), "12345")
	mustWrite(t, fx.p("heaven/verysecret.txt"), "heaven")
	mustWrite(t, fx.p("file.txt"), "file")
	mustMkdir(t, fx.p("empty"))
	mustMkdir(t, fx.p("bin"))
	for name, target := range map[string]string{
		"jail/escape":    "../garden",
		"garden/to_jail": "../jail/ok.txt",
	} {
		if err := os.Symlink(target, fx.p(name)); err != nil {
			t.Fatal(err)
		}
	}
	return fx
}

// inChild runs body in a child process as uid (0: as the caller), on a
// fresh fixture, and fails t if the child fails or does not get to the end
// of body.
func inChild(t *testing.T, uid uint32, body func(t *testing.T, fx fixture)) {
	t.Helper()
	if testutil.InChild(t) {
		body(t, makeFixture(t, os.Getenv(fixtureEnv)))
		if !t.Failed() {
			fmt.Println(childOK)
		}
		return
	}
	requireLandlock(t)
	root, err := os.MkdirTemp("", "vow-unveil-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if uid != 0 {
		if err := os.Chown(root, int(uid), int(uid)); err != nil {
			t.Fatal(err)
		}
	}
	res := testutil.RunChild(t, &testutil.Options{UID: uid, GID: uid, Env: []string{fixtureEnv + "=" + root}})
	if res.ExitCode != 0 || !strings.Contains(res.Stdout, childOK) {
		t.Fatalf("child failed (exit %d, signal %v):\n%s%s", res.ExitCode, res.Signal, res.Stdout, res.Stderr)
	}
}

// expect checks that err is nil (want nil) or wraps want.
func expect(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s: %v, want success", what, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s: got %v, want %v", what, err, want)
	}
}

func mustUnveil(t *testing.T, path, perms string) {
	t.Helper()
	if err := Unveil(path, perms); err != nil {
		t.Fatal(err)
	}
}

func mustCommit(t *testing.T) {
	t.Helper()
	if err := UnveilCommit(); err != nil {
		t.Fatal(err)
	}
}

// Probes: each does one thing to the filesystem and returns its error.

func readFile(path string) error {
	_, err := os.ReadFile(path)
	return err
}

func writeFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString("w")
	return err
}

func openTrunc(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err == nil {
		f.Close()
	}
	return err
}

func create(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err == nil {
		f.Close()
	}
	return err
}

func listDir(path string) error {
	_, err := os.ReadDir(path)
	return err
}

func openFlags(path string, flags int) error {
	fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
	}
	return err
}

func stat(path string) error {
	var st unix.Stat_t
	return unix.Stat(path, &st)
}

// run starts prog and waits for it; stdin must not be nil, or os/exec
// would open /dev/null, which may not be unveiled.
func run(prog string, args ...string) error {
	cmd := exec.Command(prog, args...)
	cmd.Stdin = strings.NewReader("")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w (output: %q)", err, out.String())
	}
	return nil
}

// selfPath returns the path of the test binary.
func selfPath(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return self
}

// copySelf copies the test binary to dst.
func copySelf(t *testing.T, dst string) {
	t.Helper()
	if err := copyFile(selfPath(t), dst); err != nil {
		t.Fatal(err)
	}
}

// readSelf returns the contents of the test binary.
func readSelf(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(selfPath(t))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// noTests is how the copied test binary is run: it does nothing, exit 0.
const noTests = "-test.run=^$"

var fsCases = []struct {
	name string
	run  func(t *testing.T, fx fixture)
}{
	{"r reads inside only", func(t *testing.T, fx fixture) {
		mustUnveil(t, fx.p("jail"), "r")
		mustCommit(t)
		expect(t, "read jail/ok.txt", readFile(fx.p("jail/ok.txt")), nil)
		expect(t, "read jail/sub/inner.txt", readFile(fx.p("jail/sub/inner.txt")), nil)
		expect(t, "read garden/secret.txt", readFile(fx.p("garden/secret.txt")), unix.EACCES)
		expect(t, "open / as a directory", openFlags("/", unix.O_RDONLY|unix.O_DIRECTORY), unix.EACCES)
		expect(t, "read /proc/self/cmdline", readFile("/proc/self/cmdline"), unix.EACCES)
		expect(t, "open / with O_PATH", openFlags("/", unix.O_PATH), nil)
		expect(t, "stat garden/secret.txt", stat(fx.p("garden/secret.txt")), nil)
		expect(t, "write jail/ok.txt", writeFile(fx.p("jail/ok.txt")), unix.EACCES)
		expect(t, "create jail/new.txt", create(fx.p("jail/new.txt")), unix.EACCES)
		expect(t, "remove jail/ok.txt", unix.Unlink(fx.p("jail/ok.txt")), unix.EACCES)
	}},
	{"r lists a directory, w does not", func(t *testing.T, fx fixture) {
		mustUnveil(t, fx.p("jail"), "r")
		mustUnveil(t, fx.p("garden"), "w")
		mustCommit(t)
		expect(t, "list jail", listDir(fx.p("jail")), nil)
		expect(t, "list garden", listDir(fx.p("garden")), unix.EACCES)
		expect(t, "list heaven", listDir(fx.p("heaven")), unix.EACCES)
		expect(t, "write garden/secret.txt", writeFile(fx.p("garden/secret.txt")), nil)
		expect(t, "read garden/secret.txt", readFile(fx.p("garden/secret.txt")), unix.EACCES)
	}},
	{"w on a single file writes and truncates", func(t *testing.T, fx fixture) {
		mustUnveil(t, fx.p("file.txt"), "w")
		mustCommit(t)
		expect(t, "write file.txt", writeFile(fx.p("file.txt")), nil)
		expect(t, "open file.txt with O_TRUNC", openTrunc(fx.p("file.txt")), nil)
		expect(t, "truncate file.txt", unix.Truncate(fx.p("file.txt"), 0), nil)
		expect(t, "read file.txt", readFile(fx.p("file.txt")), unix.EACCES)
		expect(t, "write garden/secret.txt", writeFile(fx.p("garden/secret.txt")), unix.EACCES)
		if LandlockABI() >= 3 {
			expect(t, "truncate garden/secret.txt", unix.Truncate(fx.p("garden/secret.txt"), 0), unix.EACCES)
		}
	}},
	{"w in a directory writes but does not create or remove", func(t *testing.T, fx fixture) {
		mustUnveil(t, fx.p("jail"), "rw")
		mustCommit(t)
		expect(t, "write jail/sub/inner.txt", writeFile(fx.p("jail/sub/inner.txt")), nil)
		expect(t, "open jail/ok.txt with O_TRUNC", openTrunc(fx.p("jail/ok.txt")), nil)
		expect(t, "create jail/new.txt", create(fx.p("jail/new.txt")), unix.EACCES)
		expect(t, "mkdir jail/newdir", unix.Mkdir(fx.p("jail/newdir"), 0o755), unix.EACCES)
		expect(t, "remove jail/ok.txt", unix.Unlink(fx.p("jail/ok.txt")), unix.EACCES)
		expect(t, "rename jail/ok.txt", unix.Rename(fx.p("jail/ok.txt"), fx.p("jail/moved.txt")), unix.EACCES)
	}},
	{"c creates and removes inside only", func(t *testing.T, fx fixture) {
		mustUnveil(t, fx.p("jail"), "rwc")
		mustUnveil(t, fx.p("empty"), "r")
		mustCommit(t)
		expect(t, "create jail/new.txt", create(fx.p("jail/new.txt")), nil)
		expect(t, "mkdir jail/newdir", unix.Mkdir(fx.p("jail/newdir"), 0o755), nil)
		expect(t, "symlink jail/link", unix.Symlink("ok.txt", fx.p("jail/link")), nil)
		expect(t, "mkfifo jail/fifo", unix.Mkfifo(fx.p("jail/fifo"), 0o644), nil)
		expect(t, "rename in jail", unix.Rename(fx.p("jail/new.txt"), fx.p("jail/new2.txt")), nil)
		if LandlockABI() >= 2 {
			expect(t, "rename across jail's directories",
				unix.Rename(fx.p("jail/new2.txt"), fx.p("jail/sub/new2.txt")), nil)
		}
		expect(t, "remove jail/ok.txt", unix.Unlink(fx.p("jail/ok.txt")), nil)
		expect(t, "remove jail/link", unix.Unlink(fx.p("jail/link")), nil)
		expect(t, "rmdir jail/newdir", unix.Rmdir(fx.p("jail/newdir")), nil)
		expect(t, "remove garden/secret.txt", unix.Unlink(fx.p("garden/secret.txt")), unix.EACCES)
		expect(t, "remove garden/to_jail", unix.Unlink(fx.p("garden/to_jail")), unix.EACCES)
		expect(t, "rmdir empty", unix.Rmdir(fx.p("empty")), unix.EACCES)
		expect(t, "create garden/new.txt", create(fx.p("garden/new.txt")), unix.EACCES)
		expect(t, "mkdir empty/d", unix.Mkdir(fx.p("empty/d"), 0o755), unix.EACCES)
		expect(t, "move a file out of jail", unix.Rename(fx.p("jail/sub/inner.txt"), fx.p("empty/inner.txt")), unix.EACCES)
	}},
	{"moving files between trees cannot gain rights", func(t *testing.T, fx fixture) {
		if LandlockABI() < 2 {
			t.Log("Landlock ABI 1 refuses every move between directories")
		}
		mustUnveil(t, fx.p("jail"), "rwc")
		mustUnveil(t, fx.p("heaven"), "rwcx")
		mustCommit(t)
		want := error(unix.EXDEV)
		if LandlockABI() >= 2 {
			want = nil
		}
		expect(t, "move heaven/verysecret.txt into jail (fewer rights)",
			unix.Rename(fx.p("heaven/verysecret.txt"), fx.p("jail/verysecret.txt")), want)
		expect(t, "move jail/ok.txt into heaven (more rights)",
			unix.Rename(fx.p("jail/ok.txt"), fx.p("heaven/ok.txt")), unix.EXDEV)
	}},
	{"without c nothing can be removed", func(t *testing.T, fx fixture) {
		mustUnveil(t, fx.p("jail"), "rwx")
		mustCommit(t)
		expect(t, "remove jail/ok.txt", unix.Unlink(fx.p("jail/ok.txt")), unix.EACCES)
		expect(t, "remove garden/secret.txt", unix.Unlink(fx.p("garden/secret.txt")), unix.EACCES)
		expect(t, "rmdir empty", unix.Rmdir(fx.p("empty")), unix.EACCES)
	}},
	{"rx runs a program", func(t *testing.T, fx fixture) {
		copySelf(t, fx.p("bin/prog"))
		mustUnveil(t, fx.p("bin"), "rx")
		mustUnveilLoader(t)
		mustCommit(t)
		expect(t, "run bin/prog", run(fx.p("bin/prog"), noTests), nil)
	}},
	{"r alone does not run a program", func(t *testing.T, fx fixture) {
		copySelf(t, fx.p("bin/prog"))
		mustUnveil(t, fx.p("bin"), "r")
		mustUnveilLoader(t)
		mustCommit(t)
		expect(t, "run bin/prog", run(fx.p("bin/prog"), noTests), unix.EACCES)
	}},
	{"x alone does not run a program", func(t *testing.T, fx fixture) {
		// execve opens the program for reading too, so Landlock wants
		// both rights (unlike OpenBSD, where x is enough).
		copySelf(t, fx.p("bin/prog"))
		mustUnveil(t, fx.p("bin"), "x")
		mustUnveilLoader(t)
		mustCommit(t)
		expect(t, "run bin/prog", run(fx.p("bin/prog"), noTests), unix.EACCES)
	}},
	{"a program created under rwc does not run", func(t *testing.T, fx fixture) {
		self := readSelf(t)
		mustUnveil(t, fx.p("bin"), "rwc")
		mustUnveilLoader(t)
		mustCommit(t)
		expect(t, "create bin/prog", os.WriteFile(fx.p("bin/prog"), self, 0o755), nil)
		expect(t, "stat bin/prog", stat(fx.p("bin/prog")), nil)
		expect(t, "run bin/prog", run(fx.p("bin/prog"), noTests), unix.EACCES)
	}},
	{"a program created under rwcx runs", func(t *testing.T, fx fixture) {
		self := readSelf(t)
		mustUnveil(t, fx.p("bin"), "rwcx")
		mustUnveilLoader(t)
		mustCommit(t)
		expect(t, "create bin/prog", os.WriteFile(fx.p("bin/prog"), self, 0o755), nil)
		expect(t, "run bin/prog", run(fx.p("bin/prog"), noTests), nil)
	}},
	{"dotdot and symlinks do not leave the tree", func(t *testing.T, fx fixture) {
		mustUnveil(t, fx.p("jail"), "r")
		mustCommit(t)
		expect(t, "read jail/../garden/secret.txt", readFile(fx.p("jail/../garden/secret.txt")), unix.EACCES)
		expect(t, "read jail/escape/secret.txt", readFile(fx.p("jail/escape/secret.txt")), unix.EACCES)
		expect(t, "list jail/escape", listDir(fx.p("jail/escape")), unix.EACCES)
		expect(t, "list jail/sub/..", listDir(fx.p("jail/sub/..")), nil)
		expect(t, "list jail/..", listDir(fx.p("jail/..")), unix.EACCES)
		expect(t, "read jail/sub/../ok.txt", readFile(fx.p("jail/sub/../ok.txt")), nil)
		expect(t, "read garden/to_jail (a link from outside into jail)", readFile(fx.p("garden/to_jail")), nil)
	}},
	{"rules bind to the inode", func(t *testing.T, fx fixture) {
		mustUnveil(t, fx.p("jail"), "r")
		mustUnveil(t, fx.p("file.txt"), "r")
		// Rename the unveiled directory, replace the unveiled file.
		if err := os.Rename(fx.p("jail"), fx.p("moved")); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, fx.p("file.new"), "new")
		if err := os.Rename(fx.p("file.new"), fx.p("file.txt")); err != nil {
			t.Fatal(err)
		}
		mustCommit(t)
		expect(t, "read moved/ok.txt", readFile(fx.p("moved/ok.txt")), nil)
		expect(t, "read the new file.txt", readFile(fx.p("file.txt")), unix.EACCES)
	}},
	{"descriptors opened before the commit", func(t *testing.T, fx fixture) {
		garden, err := unix.Open(fx.p("garden"), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		secret, err := os.Open(fx.p("garden/secret.txt"))
		if err != nil {
			t.Fatal(err)
		}
		pathFD, err := unix.Open(fx.p("garden/secret.txt"), unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		mustUnveil(t, fx.p("jail"), "rw")
		mustCommit(t)
		fd, err := unix.Openat(garden, "secret.txt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			unix.Close(fd)
		}
		expect(t, "openat(garden fd, secret.txt)", err, unix.EACCES)
		_, err = io.ReadAll(secret)
		expect(t, "read from a file opened before", err, nil)
		expect(t, "ftruncate an O_PATH descriptor", unix.Ftruncate(pathFD, 0), unix.EBADF)
		var st unix.Stat_t
		if err := unix.Stat(fx.p("garden/secret.txt"), &st); err != nil || st.Size != 5 {
			t.Errorf("garden/secret.txt: size %d, %v; want 5 bytes", st.Size, err)
		}
	}},
	{"a commit without rules denies everything", func(t *testing.T, fx fixture) {
		mustCommit(t)
		expect(t, "list jail", listDir(fx.p("jail")), unix.EACCES)
		expect(t, "read garden/secret.txt", readFile(fx.p("garden/secret.txt")), unix.EACCES)
		expect(t, "create jail/new.txt", create(fx.p("jail/new.txt")), unix.EACCES)
	}},
	{"two commits stack", func(t *testing.T, fx fixture) {
		mustUnveil(t, fx.p("jail"), "rw")
		mustUnveil(t, fx.p("garden"), "rw")
		mustCommit(t)
		expect(t, "read garden/secret.txt after the first commit", readFile(fx.p("garden/secret.txt")), nil)
		expect(t, "read heaven/verysecret.txt after the first commit", readFile(fx.p("heaven/verysecret.txt")), unix.EACCES)
		mustUnveil(t, fx.p("jail"), "rw")
		mustUnveil(t, fx.p("heaven"), "rw")
		mustCommit(t)
		expect(t, "read jail/ok.txt", readFile(fx.p("jail/ok.txt")), nil)
		expect(t, "read garden/secret.txt", readFile(fx.p("garden/secret.txt")), unix.EACCES)
		expect(t, "read heaven/verysecret.txt", readFile(fx.p("heaven/verysecret.txt")), unix.EACCES)
	}},
	{"the second commit can only narrow", func(t *testing.T, fx fixture) {
		mustUnveil(t, fx.p("jail"), "r")
		mustCommit(t)
		mustUnveil(t, fx.p("jail"), "rwc")
		mustCommit(t)
		expect(t, "read jail/ok.txt", readFile(fx.p("jail/ok.txt")), nil)
		expect(t, "write jail/ok.txt", writeFile(fx.p("jail/ok.txt")), unix.EACCES)
		expect(t, "create jail/new.txt", create(fx.p("jail/new.txt")), unix.EACCES)
	}},
	{"hiding a path outside the unveiled trees", func(t *testing.T, fx fixture) {
		mustUnveil(t, fx.p("jail"), "r")
		mustUnveil(t, fx.p("garden"), "")
		mustCommit(t)
		expect(t, "read jail/ok.txt", readFile(fx.p("jail/ok.txt")), nil)
		expect(t, "read garden/secret.txt", readFile(fx.p("garden/secret.txt")), unix.EACCES)
	}},
	{"hiding a path inside an unveiled tree fails", func(t *testing.T, fx fixture) {
		mustUnveil(t, fx.p("jail"), "r")
		expect(t, "hide jail/sub", Unveil(fx.p("jail/sub"), ""), unix.EPERM)
		mustCommit(t)
		expect(t, "read jail/sub/inner.txt", readFile(fx.p("jail/sub/inner.txt")), nil)
	}},
	{"a symlink chain unveils its target", func(t *testing.T, fx fixture) {
		for name, target := range map[string]string{"l1": "l2", "l2": "bin/../l3", "l3": "jail"} {
			if err := os.Symlink(target, fx.p(name)); err != nil {
				t.Fatal(err)
			}
		}
		mustUnveil(t, fx.p("l1"), "r")
		mustCommit(t)
		expect(t, "read jail/ok.txt", readFile(fx.p("jail/ok.txt")), nil)
		expect(t, "read l1/ok.txt", readFile(fx.p("l1/ok.txt")), nil)
		expect(t, "read garden/secret.txt", readFile(fx.p("garden/secret.txt")), unix.EACCES)
	}},
	{"many unveiled files", func(t *testing.T, fx fixture) {
		for i := range 100 {
			mustWrite(t, fx.p("many/"+strconv.Itoa(i)), "in")
			mustWrite(t, fx.p("many/"+strconv.Itoa(i)+"-"), "out")
		}
		for i := range 100 {
			mustUnveil(t, fx.p("many/"+strconv.Itoa(i)), "rw")
		}
		mustCommit(t)
		for i := range 100 {
			expect(t, "read many/"+strconv.Itoa(i), readFile(fx.p("many/"+strconv.Itoa(i))), nil)
			expect(t, "read many/"+strconv.Itoa(i)+"-", readFile(fx.p("many/"+strconv.Itoa(i)+"-")), unix.EACCES)
		}
	}},
	{"device ioctl needs w", func(t *testing.T, fx fixture) {
		if LandlockABI() < 5 {
			t.Log("Landlock ABI < 5 does not control device ioctls; only checking that the files open")
		}
		mustUnveil(t, "/dev/null", "rw")
		mustUnveil(t, "/dev/zero", "r")
		mustCommit(t)
		ioctl := func(path string) error {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
			return err
		}
		expect(t, "ioctl(/dev/null, TCGETS)", ioctl("/dev/null"), unix.ENOTTY)
		if LandlockABI() >= 5 {
			expect(t, "ioctl(/dev/zero, TCGETS)", ioctl("/dev/zero"), unix.EACCES)
		}
	}},
}

// TestUnveilFS runs the filesystem cases under the real kernel, as root and
// as an unprivileged user.
func TestUnveilFS(t *testing.T) {
	requireProcessWide(t)
	for _, u := range users {
		t.Run(u.name, func(t *testing.T) {
			for _, tc := range fsCases {
				t.Run(tc.name, func(t *testing.T) { inChild(t, u.uid, tc.run) })
			}
		})
	}
}

// TestCommitAllThreads checks that a commit restricts threads that already
// exist, including goroutines locked to their own threads, and that every
// thread gets no_new_privs.
func TestCommitAllThreads(t *testing.T) {
	requireProcessWide(t)
	for _, u := range users {
		t.Run(u.name, func(t *testing.T) {
			inChild(t, u.uid, func(t *testing.T, fx fixture) {
				type request struct {
					path  string
					reply chan error
				}
				var workers []chan request
				for range 4 {
					ch := make(chan request)
					ready := make(chan struct{})
					go func() {
						runtime.LockOSThread() // never unlocked: this thread is only this goroutine's
						close(ready)
						for r := range ch {
							r.reply <- readFile(r.path)
						}
					}()
					<-ready
					workers = append(workers, ch)
				}
				ask := func(w chan request, path string) error {
					reply := make(chan error)
					w <- request{path, reply}
					return <-reply
				}
				for i, w := range workers {
					expect(t, fmt.Sprintf("thread %d before the commit: read garden/secret.txt", i),
						ask(w, fx.p("garden/secret.txt")), nil)
				}
				mustUnveil(t, fx.p("jail"), "r")
				mustUnveil(t, "/proc", "r")
				mustCommit(t)
				for i, w := range workers {
					expect(t, fmt.Sprintf("thread %d: read jail/ok.txt", i), ask(w, fx.p("jail/ok.txt")), nil)
					expect(t, fmt.Sprintf("thread %d: read garden/secret.txt", i),
						ask(w, fx.p("garden/secret.txt")), unix.EACCES)
				}
				done := make(chan error)
				go func() {
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					done <- readFile(fx.p("garden/secret.txt"))
				}()
				expect(t, "a goroutine started after the commit: read garden/secret.txt", <-done, unix.EACCES)

				tasks, err := os.ReadDir("/proc/self/task")
				if err != nil {
					t.Fatal(err)
				}
				if len(tasks) < len(workers)+1 {
					t.Errorf("only %d threads, want at least %d", len(tasks), len(workers)+1)
				}
				for _, task := range tasks {
					nnp, err := noNewPrivs("/proc/self/task/" + task.Name() + "/status")
					if err != nil {
						t.Error(err)
					} else if !nnp {
						t.Errorf("thread %s has no no_new_privs", task.Name())
					}
				}
			})
		})
	}
}

// noNewPrivs reads the NoNewPrivs line of a /proc status file.
func noNewPrivs(status string) (bool, error) {
	f, err := os.Open(status)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "NoNewPrivs:"); ok {
			return strings.TrimSpace(v) == "1", nil
		}
	}
	return false, fmt.Errorf("%s: no NoNewPrivs line", status)
}

// TestRestrictThread checks the launcher path: a ruleset enforced on one
// locked thread restricts that thread and the programs it starts, and not
// the rest of the process.
func TestRestrictThread(t *testing.T) {
	inChild(t, 0, func(t *testing.T, fx fixture) {
		copySelf(t, fx.p("bin/prog"))
		rs, err := NewRuleset(UnveilOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		if err := rs.Add(fx.p("jail"), "r"); err != nil {
			t.Fatal(err)
		}
		rules := append(loaderRules(t, selfPath(t)), rule{fx.p("bin"), "rx"})
		for _, r := range rules {
			if err := rs.Add(r.path, r.perms); err != nil {
				t.Fatal(err)
			}
		}
		restricted, finish, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			err := rs.RestrictThread()
			if err != nil {
				t.Errorf("RestrictThread: %v", err)
			} else {
				expect(t, "restricted thread: read jail/ok.txt", readFile(fx.p("jail/ok.txt")), nil)
				expect(t, "restricted thread: read garden/secret.txt", readFile(fx.p("garden/secret.txt")), unix.EACCES)
				// A program started here inherits the restriction.
				expect(t, "its child: read jail/ok.txt", runReader(fx.p("bin/prog"), fx.p("jail/ok.txt")), nil)
				if err := runReader(fx.p("bin/prog"), fx.p("garden/secret.txt")); err == nil ||
					!strings.Contains(err.Error(), "permission denied") {
					t.Errorf("its child: read garden/secret.txt: %v, want permission denied", err)
				}
			}
			close(restricted)
			<-finish // keep the thread busy: it stays locked to this goroutine
		}()
		<-restricted
		expect(t, "another thread: read garden/secret.txt", readFile(fx.p("garden/secret.txt")), nil)
		expect(t, "another thread: list heaven", listDir(fx.p("heaven")), nil)
		close(finish)
		<-done
		expect(t, "after the restricted goroutine ended: read garden/secret.txt", readFile(fx.p("garden/secret.txt")), nil)
	})
}

// readEnv names the file TestChildReads reads.
const readEnv = "VOW_UNVEIL_READ"

// runReader runs prog, a copy of the test binary, to read path in
// TestChildReads.
func runReader(prog, path string) error {
	cmd := exec.Command(prog, "-test.run=^TestChildReads$")
	cmd.Env = append(os.Environ(), readEnv+"="+path)
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w (output: %q)", err, out)
	}
	return nil
}

// TestChildReads is a helper: run by runReader, it fails unless it can
// read the file named by $VOW_UNVEIL_READ.
func TestChildReads(t *testing.T) {
	path := os.Getenv(readEnv)
	if path == "" {
		t.Skip("helper for TestRestrictThread")
	}
	if _, err := os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
}

// TestLayerLimit checks that the 17th commit fails clearly.
func TestLayerLimit(t *testing.T) {
	requireProcessWide(t)
	inChild(t, 0, func(t *testing.T, fx fixture) {
		for i := 1; i <= maxLayers; i++ {
			mustUnveil(t, "/", "rwxc")
			if err := UnveilCommit(); err != nil {
				t.Fatalf("commit %d: %v", i, err)
			}
		}
		mustUnveil(t, "/", "rwxc")
		err := UnveilCommit()
		expect(t, "commit 17", err, unix.E2BIG)
		if err != nil && !strings.Contains(err.Error(), "at most 16") {
			t.Errorf("message %q does not give the limit", err)
		}
		expect(t, "read garden/secret.txt", readFile(fx.p("garden/secret.txt")), nil)
	})
}

// TestExecDynamic runs a dynamically linked program: it needs rx on itself
// and on its ELF interpreter (the kernel opens both for execution) and r on
// the shared libraries (the loader reads and maps them; Landlock does not
// check mmap).
func TestExecDynamic(t *testing.T) {
	requireProcessWide(t)
	prog, err := filepath.EvalSymlinks("/bin/true")
	if err != nil {
		t.Skipf("no /bin/true to run: %v", err)
	}
	interp, err := elfInterpreter(prog)
	if err != nil {
		t.Fatal(err)
	}
	if interp == "" {
		t.Skipf("%s is statically linked", prog)
	}
	tests := []struct {
		name              string
		progPerms, ldPerm string
		want              error
	}{
		{"rx on the program and its loader", "rx", "rx", nil},
		{"program not executable", "r", "rx", unix.EACCES},
		{"loader not executable", "rx", "r", unix.EACCES},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inChild(t, 0, func(t *testing.T, fx fixture) {
				for _, r := range loaderRules(t, prog) {
					if r.path == interp {
						r.perms = tt.ldPerm
					}
					mustUnveil(t, r.path, r.perms)
				}
				mustUnveil(t, prog, tt.progPerms)
				mustCommit(t)
				expect(t, "run "+prog, run(prog), tt.want)
			})
		})
	}
}

// rule is one unveil.
type rule struct{ path, perms string }

// loaderRules returns what a dynamically linked prog needs unveiled besides
// itself: rx on its ELF interpreter (the kernel opens it for execution
// like the program) and r on the shared library directories and the
// loader's cache (the loader reads and maps them; Landlock does not check
// mmap). A static prog needs nothing.
func loaderRules(t *testing.T, prog string) []rule {
	t.Helper()
	interp, err := elfInterpreter(prog)
	if err != nil {
		t.Fatal(err)
	}
	if interp == "" {
		return nil
	}
	var rules []rule
	for _, lib := range []string{"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib", "/etc/ld.so.cache"} {
		if _, err := os.Stat(lib); err == nil {
			rules = append(rules, rule{lib, "r"})
		}
	}
	return append(rules, rule{interp, "rx"})
}

// mustUnveilLoader unveils what the test binary needs to start, when it is
// dynamically linked (as with go test -race).
func mustUnveilLoader(t *testing.T) {
	t.Helper()
	for _, r := range loaderRules(t, selfPath(t)) {
		mustUnveil(t, r.path, r.perms)
	}
}

// requireProcessWide skips t when this test binary cannot restrict every
// thread, which UnveilCommit then refuses (TestCgoCommitRefused checks it).
func requireProcessWide(t *testing.T) {
	t.Helper()
	requireLandlock(t)
	if !processWideSupported() {
		t.Skipf("this test binary uses cgo (as go test -race does), where Go cannot make a system call on every thread, "+
			"and Landlock ABI %d has no TSYNC (ABI %d): process-wide unveil refuses to work here", LandlockABI(), abiTSync)
	}
}

// processWideSupported reports whether RestrictProcess can work in this
// binary: with Landlock TSYNC, or without cgo.
func processWideSupported() bool {
	if LandlockABI() >= abiTSync {
		return true
	}
	_, _, e := syscall.AllThreadsSyscall(unix.SYS_GETPID, 0, 0, 0)
	return e != syscall.ENOTSUP
}

// TestCgoCommitRefused checks that where RestrictProcess cannot reach
// every thread it refuses, and restricts nothing rather than one thread.
func TestCgoCommitRefused(t *testing.T) {
	requireLandlock(t)
	if processWideSupported() {
		t.Skip("this test binary can restrict every thread (no cgo, or Landlock TSYNC); nothing to refuse")
	}
	inChild(t, 0, func(t *testing.T, fx fixture) {
		mustUnveil(t, fx.p("jail"), "r")
		err := UnveilCommit()
		expect(t, "UnveilCommit", err, unix.ENOTSUP)
		if err != nil && !strings.Contains(err.Error(), "CGO_ENABLED=0") {
			t.Errorf("message %q does not say how to fix it", err)
		}
		expect(t, "read garden/secret.txt", readFile(fx.p("garden/secret.txt")), nil)
		nnp, err := noNewPrivs("/proc/self/status")
		if err != nil || nnp {
			t.Errorf("no_new_privs = %v, %v; want it unset", nnp, err)
		}
	})
}

// elfInterpreter returns the PT_INTERP of an ELF file, "" if it has none.
func elfInterpreter(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			if err != nil {
				return "", err
			}
			return strings.TrimRight(string(b), "\x00"), nil
		}
	}
	return "", nil
}

// TestUnveilWithoutLandlock checks that, when the kernel has no Landlock,
// the process-wide calls succeed and restrict nothing.
func TestUnveilWithoutLandlock(t *testing.T) {
	inChild(t, 0, func(t *testing.T, fx fixture) {
		withProbe(t, 0, unix.ENOSYS)
		mustUnveil(t, fx.p("jail"), "r")
		mustUnveil(t, fx.p("missing"), "rwxc")
		mustCommit(t)
		expect(t, "read garden/secret.txt", readFile(fx.p("garden/secret.txt")), nil)
		expect(t, "create jail/new.txt", create(fx.p("jail/new.txt")), nil)
	})
}
