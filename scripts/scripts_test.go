package scripts

import (
	"bytes"
	"embed"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/host"
	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/internal/vowcmd"
	"github.com/vow-sandbox/vow/sandbox"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

// The recipes are embedded and copied into each case's scratch
// directory, so that a run as nobody needs no access to the source tree.
//
//go:embed *.lua
var recipes embed.FS

// goldens are embedded for the same reason.
//
//go:embed testdata/*.golden
var goldens embed.FS

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// asVowEnv makes the test binary behave as `vow` (its script runner), so
// the recipes run under the real parent/worker pair.
const asVowEnv = "SCRIPTS_TEST_AS_VOW"

func TestMain(m *testing.M) {
	sandbox.Init() // unix.spawn's launcher
	host.Init()    // vow.run's children
	if os.Getenv(asVowEnv) != "" {
		os.Exit(vowcmd.Script(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// recipeCase is one run of a recipe; its expected output is
// testdata/NAME.golden.
type recipeCase struct {
	name string
	// args follow "vow"; $PORT is the test server's port (or, with
	// closedPort, a port nothing listens on) and $DIR the scratch
	// directory, which is also the working directory.
	args       []string
	files      map[string]string // created before the run
	stdin      string
	server     bool
	closedPort bool
	landlock   bool     // needs Landlock
	needs      []string // programs that must be in $PATH
	show       []string // files whose content the golden shows after the run
}

const poem = "Nature's first green is gold,\nHer hardest hue to hold.\nHer early leaf's a flower;\nBut only so an hour.\n"

const untrusted = `-- an "untrusted" chunk: computes, prints, then tries to escape
print("2 + 2 = " .. (2 + 2), ...)
local f, err = io.open("/etc/passwd")
print("io.open:", f, err)
local fd, serr = unix.socket()
print("unix.socket:", fd, tostring(serr))
print("done")
`

var siteFiles = map[string]string{
	"src/welcome.txt": "Welcome & hello\n\nThis page was built\nin a sandbox.\n\n@include footer.inc\n",
	"src/notes.txt":   "Notes <draft>\nOne paragraph.\n",
	"src/footer.inc":  "Built by build.lua.\n",
	"secret.txt":      "not for the build\n",
}

func withFile(m map[string]string, name, content string) map[string]string {
	c := map[string]string{name: content}
	for k, v := range m {
		c[k] = v
	}
	return c
}

const logLines = "2026-01-01 10:00:01 INFO start\n2026-01-01 10:00:02 ERROR disk full\n2026-01-01 10:00:03 INFO retry\n" +
	"2026-01-01 10:00:04 ERROR disk still full\n2026-01-01 10:00:05 INFO stop\n"

var treeFiles = map[string]string{
	"tree/a.txt":        "alpha\n",
	"tree/b.dat":        "0123456789",
	"tree/sub/deep.txt": "deep\n",
	"outside.txt":       "outside\n",
}

var recipeCases = []recipeCase{
	{name: "no-network", args: []string{"no-network.lua"}},
	{name: "no-network-kill", args: []string{"no-network.lua", "--kill"}},

	{name: "view", args: []string{"view.lua", "poem.txt"}, files: map[string]string{"poem.txt": poem}},
	{name: "view-missing", args: []string{"view.lua", "missing.txt"}},

	{name: "sandbox-run", args: []string{"sandbox-run.lua", "untrusted.lua", "one", "two"},
		files: map[string]string{"untrusted.lua": untrusted}, landlock: true},
	{name: "sandbox-run-kill", args: []string{"sandbox-run.lua", "--kill", "untrusted.lua"},
		files: map[string]string{"untrusted.lua": untrusted}, landlock: true},
	{name: "sandbox-run-error", args: []string{"sandbox-run.lua", "failing.lua"},
		files: map[string]string{"failing.lua": "print('working')\nerror('the untrusted code gave up')\n"}, landlock: true},

	{name: "fetch", args: []string{"fetch.lua", "$PORT", "/"}, server: true},
	{name: "fetch-redirect", args: []string{"fetch.lua", "$PORT", "/moved"}, server: true},
	{name: "fetch-404", args: []string{"fetch.lua", "$PORT", "/missing"}, server: true},
	{name: "fetch-refused", args: []string{"fetch.lua", "$PORT"}, closedPort: true},

	{name: "build", args: []string{"build.lua", "src", "out"}, files: siteFiles, landlock: true,
		show: []string{"out/welcome.html", "out/notes.html", "out/index.html"}},
	{name: "build-include-escape", args: []string{"build.lua", "src", "out"}, landlock: true,
		files: withFile(siteFiles, "src/zz-evil.txt", "Evil\n@include ../secret.txt\n")},

	{name: "logfilter", args: []string{"logfilter.lua", "ERROR"}, stdin: logLines},
	{name: "logfilter-count-inverted", args: []string{"logfilter.lua", "-v", "-c", "ERROR"}, stdin: logLines},
	{name: "logfilter-bad-pattern", args: []string{"logfilter.lua", "[a-"}, stdin: logLines},

	{name: "ls", args: []string{"ls.lua", "tree"}, files: treeFiles, landlock: true},
	{name: "ls-escape", args: []string{"ls.lua", "tree", "sub", ".."}, files: treeFiles, landlock: true},

	{name: "readonly-ls", args: []string{"readonly.lua", "ls", "-1", "tree"}, files: treeFiles, needs: []string{"ls"}},
	{name: "readonly-touch", args: []string{"readonly.lua", "touch", "tree/new"}, files: treeFiles, needs: []string{"touch"}},
	{name: "readonly-missing", args: []string{"readonly.lua", "no-such-program-for-vow"}},

	{name: "jail-ls", args: []string{"jail.lua", "tree", "ls", "-1", "tree", "tree/sub"}, files: treeFiles, landlock: true, needs: []string{"ls"}},
	{name: "jail-escape", args: []string{"jail.lua", "tree", "cat", "tree/a.txt", "outside.txt"}, files: treeFiles, landlock: true, needs: []string{"cat"}},
	{name: "jail-write", args: []string{"jail.lua", "tree", "touch", "tree/new"}, files: treeFiles, landlock: true, needs: []string{"touch"}},
	{name: "jail-missing", args: []string{"jail.lua", "tree", "no-such-program-for-vow"}},
}

func TestRecipes(t *testing.T) {
	for _, rc := range recipeCases {
		t.Run(rc.name, func(t *testing.T) { checkRecipe(t, rc) })
	}
}

// TestRecipesAsNobody runs every recipe again as the unprivileged user
// nobody, against the same golden files.
func TestRecipesAsNobody(t *testing.T) {
	if testutil.InChild(t) {
		if os.Getuid() != testutil.Nobody {
			t.Fatalf("child runs as uid %d, want %d", os.Getuid(), testutil.Nobody)
		}
		TestRecipes(t)
		return
	}
	if *update {
		t.Skip("not while rewriting golden files")
	}
	res := testutil.RunChild(t, &testutil.Options{UID: testutil.Nobody, GID: testutil.Nobody})
	if res.ExitCode != 0 || !strings.Contains(res.Stdout, "PASS") {
		t.Fatalf("as nobody (exit %d, signal %v):\n%s\n%s", res.ExitCode, res.Signal, res.Stdout, res.Stderr)
	}
}

// TestEveryRecipeIsTested keeps the table complete.
func TestEveryRecipeIsTested(t *testing.T) {
	ents, err := recipes.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		tested := false
		for _, rc := range recipeCases {
			tested = tested || rc.args[0] == e.Name()
		}
		if !tested {
			t.Errorf("%s has no case in recipeCases", e.Name())
		}
	}
}

func checkRecipe(t *testing.T, rc recipeCase) {
	t.Helper()
	if rc.landlock && sandbox.LandlockABI() == 0 {
		t.Skip("Landlock is not available in this kernel, so unveil restricts nothing")
	}
	for _, prog := range rc.needs {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("%s is not installed", prog)
		}
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := recipes.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		data, err := recipes.ReadFile(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, filepath.Join(dir, e.Name()), string(data))
	}
	for name, content := range rc.files {
		mustWrite(t, filepath.Join(dir, name), content)
	}
	port := 0
	switch {
	case rc.server:
		port = startServer(t)
	case rc.closedPort:
		port = closedPort(t)
	}
	var args []string
	for _, a := range rc.args {
		args = append(args, strings.ReplaceAll(a, "$PORT", strconv.Itoa(port)))
	}

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	// A fixed PATH: a directory nobody may not search would turn "not
	// found" into EACCES (lua-unix.md §7 item 23).
	cmd.Env = append(os.Environ(), asVowEnv+"=1", "LC_ALL=C", "PATH=/usr/local/bin:/usr/bin:/bin")
	cmd.Stdin = strings.NewReader(rc.stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	status := "exit " + strconv.Itoa(cmd.ProcessState.ExitCode())
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signaled() {
		status = "signal " + unix.SignalName(ws.Signal())
	}

	var b strings.Builder
	fmt.Fprintf(&b, "$ vow %s\n", strings.Join(rc.args, " "))
	if rc.stdin != "" {
		fmt.Fprintf(&b, "--- stdin\n%s", rc.stdin)
	}
	fmt.Fprintf(&b, "--- stdout\n%s--- stderr\n%s--- status\n%s\n", stdout.String(), stderr.String(), status)
	for _, name := range rc.show {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("the recipe did not write %s: %v", name, err)
		}
		fmt.Fprintf(&b, "--- file %s\n%s", name, data)
	}
	got := normalize(b.String(), dir, port)

	golden := filepath.Join("testdata", rc.name+".golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := goldens.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./scripts -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", golden, got, want)
	}
}

var (
	pidRE = regexp.MustCompile(`pid=[0-9]+`)
	ordRE = regexp.MustCompile(`([a-z0-9_]+) \(ord=([0-9a-f]+)\)`)
)

// normalize replaces what changes from run to run, and from one
// architecture to another: violation reports show system call numbers,
// which the golden files hold as x86-64's.
func normalize(s, dir string, port int) string {
	s = strings.ReplaceAll(s, dir, "$DIR")
	if port != 0 {
		s = strings.ReplaceAll(s, "127.0.0.1:"+strconv.Itoa(port), "127.0.0.1:$PORT")
		s = strings.ReplaceAll(s, "fetch.lua "+strconv.Itoa(port), "fetch.lua $PORT")
	}
	s = ordRE.ReplaceAllStringFunc(s, func(m string) string {
		name := ordRE.FindStringSubmatch(m)[1]
		if nr, ok := sysno.AMD64.Number(name); ok {
			return fmt.Sprintf("%s (ord=%03x)", name, nr)
		}
		return m
	})
	return pidRE.ReplaceAllString(s, "pid=PID")
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startServer serves a tiny HTTP/1.0 site on 127.0.0.1 until the test
// ends and returns its port. It uses raw sockets: the net package would
// link the cgo resolver into this binary, which then cannot commit unveil
// on kernels before Landlock ABI 8.
func startServer(t *testing.T) int {
	t.Helper()
	lfd, port := listen(t)
	go func() {
		for {
			fd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
			if err != nil {
				if err == unix.EINTR || err == unix.ECONNABORTED {
					continue
				}
				return
			}
			serve(fd)
		}
	}()
	t.Cleanup(func() {
		unix.Shutdown(lfd, unix.SHUT_RDWR)
		unix.Close(lfd)
	})
	return port
}

func listen(t *testing.T) (fd, port int) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 8); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, sa.(*unix.SockaddrInet4).Port
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	fd, port := listen(t)
	unix.Close(fd)
	return port
}

func serve(fd int) {
	defer unix.Close(fd)
	var req []byte
	buf := make([]byte, 1024)
	for !bytes.Contains(req, []byte("\r\n\r\n")) {
		n, err := unix.Read(fd, buf)
		if err != nil || n == 0 {
			return
		}
		req = append(req, buf[:n]...)
	}
	path := ""
	if f := strings.Fields(string(req)); len(f) >= 2 {
		path = f[1]
	}
	var resp string
	switch path {
	case "/":
		body := "hello from the test server\n"
		resp = fmt.Sprintf("HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	case "/moved":
		resp = "HTTP/1.0 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n"
	default:
		resp = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n"
	}
	for len(resp) > 0 {
		n, err := unix.Write(fd, []byte(resp))
		if err != nil {
			return
		}
		resp = resp[n:]
	}
}
