package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Tests in this file never enforce a ruleset, so they run in the test
// process itself. The ones that do are in unveil_test.go.

// requireLandlock skips t when the kernel cannot enforce unveil.
func requireLandlock(t *testing.T) {
	t.Helper()
	if _, err := landlockProbe(); err != nil {
		msg, _ := landlockUnavailable(err)
		t.Skipf("Landlock is not usable here, nothing to test: %s (%v)", msg, err)
	}
}

// withProbe makes the package believe the kernel answered the Landlock
// version query with (abi, err) for the rest of t.
func withProbe(t *testing.T, abi int, err error) {
	old := landlockProbe
	landlockProbe = func() (int, error) { return abi, err }
	t.Cleanup(func() { landlockProbe = old })
}

func TestKnownFSRights(t *testing.T) {
	const (
		remove = unix.LANDLOCK_ACCESS_FS_REMOVE_FILE | unix.LANDLOCK_ACCESS_FS_REMOVE_DIR
		abi1   = 0x1FFF
	)
	tests := []struct {
		abi         int
		known       uint64
		wantHandled uint64
	}{
		{0, 0, 0},
		{1, abi1, abi1},
		{2, abi1 | 0x2000, 0x3FFF},
		{3, 0x7FFF, 0x7FFF},
		{4, 0x7FFF, 0x7FFF}, // network only
		{5, 0xFFFF, 0xFFFF}, // IOCTL_DEV
		{7, 0xFFFF, 0xFFFF},
		{9, 0xFFFF, 0xFFFF}, // later rights unknown to vow are not handled
	}
	for _, tt := range tests {
		if got := knownFSRights(tt.abi); got != tt.known {
			t.Errorf("knownFSRights(%d) = %#x, want %#x", tt.abi, got, tt.known)
		}
		handled := rightsAll & knownFSRights(tt.abi)
		if handled != tt.wantHandled {
			t.Errorf("handled at ABI %d = %#x, want %#x", tt.abi, handled, tt.wantHandled)
		}
		if tt.abi > 0 && handled&remove != remove {
			t.Errorf("ABI %d: remove rights not handled (%#x)", tt.abi, handled)
		}
	}
}

func TestGradeRights(t *testing.T) {
	tests := []struct {
		name  string
		perms string
		abi   int
		dir   bool
		want  uint64
	}{
		{"r on a directory", "r", 7, true, 0x4 | 0x8 | 0x2000},
		{"r on a directory, ABI 1 has no refer", "r", 1, true, 0x4 | 0x8},
		{"r on a file reads only", "r", 7, false, 0x4},
		{"w on a file keeps truncate and device ioctl", "w", 7, false, 0x2 | 0x4000 | 0x8000},
		{"w on a file, ABI 3 has no device ioctl", "w", 3, false, 0x2 | 0x4000},
		{"w on a file, ABI 2 has no truncate", "w", 2, false, 0x2},
		{"x", "x", 1, false, 0x1},
		{"c on a directory makes and removes", "c", 7, true, 0x1FF0},
		{"c on a file grants nothing", "c", 7, false, 0},
		{"rwxc on a directory is everything", "rwxc", 7, true, 0xFFFF},
		{"rwxc on a file", "rwxc", 7, false, 0xC007},
		{"repeated letters in any order", "ccxxrr", 7, true, 0x1FF0 | 0x1 | 0x200C},
		{"empty", "", 7, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rights, err := parsePerms(tt.perms)
			if err != nil {
				t.Fatalf("parsePerms(%q): %v", tt.perms, err)
			}
			if got := gradeRights(rights, tt.abi, tt.dir); got != tt.want {
				t.Errorf("got %#x, want %#x", got, tt.want)
			}
		})
	}
}

func TestParsePermsBadLetters(t *testing.T) {
	for _, perms := range []string{"q", "rq", "R", "rw ", "r,w", "rwé"} {
		_, err := parsePerms(perms)
		if !errors.Is(err, unix.EINVAL) {
			t.Errorf("parsePerms(%q) = %v, want EINVAL", perms, err)
			continue
		}
		if !strings.Contains(err.Error(), "r, w, x and c") {
			t.Errorf("parsePerms(%q): message %q does not say which letters are valid", perms, err)
		}
	}
}

// TestResolveLinks checks upstream's symbolic link chain rules (spec §6.3
// step 7).
func TestResolveLinks(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, dir+"/file", "x")
	mustMkdir(t, dir+"/d")
	links := map[string]string{
		"rel":        "file",
		"abs":        dir + "/file",
		"chain1":     "chain2",
		"chain2":     "d/chain3",
		"d/chain3":   "../file",
		"todir":      "d",
		"dangling":   "nowhere",
		"dangling2":  "dangling",
		"self":       "self",
		"underfile":  "file/x",
		"toolong":    strings.Repeat("a/", 2040),
		"toolongabs": "/" + strings.Repeat("a", 250),
	}
	for name, target := range links {
		if err := os.Symlink(target, dir+"/"+name); err != nil {
			t.Fatal(err)
		}
	}
	// A chain of exactly maxLinks-1 links ends on a file; one more is ELOOP.
	for i := 0; i < maxLinks; i++ {
		target := "file"
		if i > 0 {
			target = "long" + strconv.Itoa(i-1)
		}
		if err := os.Symlink(target, dir+"/long"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	pipeR, pipeW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pipeR.Close()
	defer pipeW.Close()
	procFD := "/proc/self/fd/" + strconv.Itoa(int(pipeR.Fd()))

	tests := []struct {
		name, path, want string
		err              error
	}{
		{"not a link", dir + "/file", dir + "/file", nil},
		{"directory", dir + "/d", dir + "/d", nil},
		{"relative link", dir + "/rel", dir + "/file", nil},
		{"absolute link", dir + "/abs", dir + "/file", nil},
		{"chain through a subdirectory", dir + "/chain1", dir + "/d/../file", nil},
		{"link to a directory", dir + "/todir", dir + "/d", nil},
		{"dangling link ends on the link", dir + "/dangling", dir + "/dangling", nil},
		{"chain to a dangling link ends on the last link", dir + "/dangling2", dir + "/dangling", nil},
		{"link to something under a file ends on the link", dir + "/underfile", dir + "/underfile", nil},
		{"magic link to a pipe ends on the link", procFD, procFD, nil},
		{"63 links", dir + "/long" + strconv.Itoa(maxLinks-2), dir + "/file", nil},
		{"64 links", dir + "/long" + strconv.Itoa(maxLinks-1), "", unix.ELOOP},
		{"loop", dir + "/self", "", unix.ELOOP},
		{"missing", dir + "/missing", "", unix.ENOENT},
		{"under a file", dir + "/file/x", "", unix.ENOTDIR},
		{"path too long", "/" + strings.Repeat("a", unix.PathMax), "", unix.ENAMETOOLONG},
		{"joined path too long", dir + "/toolong", "", unix.ENAMETOOLONG},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveLinks(tt.path)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("resolveLinks(%q) = %q, %v; want error %v", tt.path, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("resolveLinks(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
			}
		})
	}
}

// TestRulesetAdd checks what Add accepts and refuses, without enforcing.
func TestRulesetAdd(t *testing.T) {
	requireLandlock(t)
	dir := t.TempDir()
	mustMkdir(t, dir+"/tree/sub/deeper")
	mustWrite(t, dir+"/tree/sub/file", "x")
	mustMkdir(t, dir+"/other")
	mustWrite(t, dir+"/other/file", "x")
	mustWrite(t, dir+"/single", "x")
	mustWrite(t, dir+"/single2", "x")
	if err := os.Symlink("tree/sub", dir+"/link_in"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere", dir+"/dangling"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("self", dir+"/self"); err != nil {
		t.Fatal(err)
	}

	type step struct {
		path, perms string
		err         error  // nil: success
		msg         string // part of the message, when err != nil
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"directory and file", []step{
			{dir + "/tree", "rwxc", nil, ""},
			{dir + "/single", "rwx", nil, ""},
		}},
		{"bad letter", []step{{dir + "/tree", "rwz", unix.EINVAL, `'z'`}}},
		{"uppercase letter", []step{{dir + "/tree", "R", unix.EINVAL, `'R'`}}},
		{"empty path", []step{{"", "r", unix.EINVAL, "empty path"}}},
		{"missing path", []step{{dir + "/missing", "r", unix.ENOENT, "does not exist"}}},
		{"under a file", []step{{dir + "/single/x", "r", unix.ENOTDIR, "not"}}},
		{"link loop", []step{{dir + "/self", "r", unix.ELOOP, "64"}}},
		{"path too long", []step{{"/" + strings.Repeat("a", 5000), "r", unix.ENAMETOOLONG, "4096"}}},
		{"dangling link gets the rule itself", []step{{dir + "/dangling", "r", nil, ""}}},
		{"c on a file grants nothing", []step{{dir + "/single", "c", unix.ENOMSG, "parent directory"}}},
		{"hide with nothing unveiled", []step{{dir + "/tree", "", nil, ""}}},
		{"hide outside every unveiled tree", []step{
			{dir + "/tree", "r", nil, ""},
			{dir + "/single", "r", nil, ""},
			{dir + "/other", "", nil, ""},
			{dir + "/other/file", "", nil, ""},
			{dir + "/single2", "", nil, ""},
			{dir, "", nil, ""},
			{"/", "", nil, ""},
		}},
		{"hide inside an unveiled tree", []step{
			{dir + "/tree", "x", nil, ""},
			{dir + "/tree/sub", "", unix.EPERM, "cannot take away"},
			{dir + "/tree/sub/deeper", "", unix.EPERM, `beneath "` + dir + `/tree"`},
			{dir + "/tree/sub/file", "", unix.EPERM, "cannot take away"},
			{dir + "/tree/sub/../sub/file", "", unix.EPERM, "cannot take away"},
			{dir + "/link_in", "", unix.EPERM, "cannot take away"},
			{dir + "/tree", "", unix.EPERM, "unveiled already"},
		}},
		{"hide an unveiled file", []step{
			{dir + "/single", "w", nil, ""},
			{dir + "/single", "", unix.EPERM, "unveiled already"},
		}},
		{"hide follows the rule's inode", []step{
			{dir + "/link_in", "r", nil, ""},
			{dir + "/tree/sub/file", "", unix.EPERM, `beneath "` + dir + `/link_in"`},
			{dir + "/tree", "", nil, ""},
		}},
		{"hide a missing path", []step{{dir + "/missing", "", unix.ENOENT, "does not exist"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := NewRuleset(UnveilOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			for _, s := range tt.steps {
				err := rs.Add(s.path, s.perms)
				switch {
				case s.err == nil && err != nil:
					t.Errorf("Add(%q, %q): %v", s.path, s.perms, err)
				case s.err != nil && !errors.Is(err, s.err):
					t.Errorf("Add(%q, %q) = %v, want an error wrapping %v", s.path, s.perms, err, s.err)
				case s.err != nil && !strings.Contains(err.Error(), s.msg):
					t.Errorf("Add(%q, %q): message %q does not contain %q", s.path, s.perms, err, s.msg)
				}
			}
		})
	}
}

func TestRulesetClosed(t *testing.T) {
	requireLandlock(t)
	rs, err := NewRuleset(UnveilOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rs.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := rs.Add(t.TempDir(), "r"); !errors.Is(err, unix.EBADF) {
		t.Errorf("Add after Close = %v, want EBADF", err)
	}
	if err := rs.RestrictProcess(); !errors.Is(err, unix.EBADF) {
		t.Errorf("RestrictProcess after Close = %v, want EBADF", err)
	}
}

// TestLandlockMissing pretends the kernel has no Landlock (or refuses it).
// Nothing here reaches the kernel's Landlock calls; the process-wide
// no-op commit is checked in a child by TestUnveilWithoutLandlock.
func TestLandlockMissing(t *testing.T) {
	tests := []struct {
		name   string
		errno  unix.Errno
		absent bool   // succeeds without strict mode
		msg    string // in the error
	}{
		{"not built in", unix.ENOSYS, true, "Landlock is not available in this kernel (not built in"},
		{"disabled at boot", unix.EOPNOTSUPP, true, "Landlock is not available in this kernel (built in but disabled"},
		{"refused by a filter", unix.EPERM, false, `without the "unveil" promise`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withProbe(t, 0, tt.errno)
			if abi := LandlockABI(); abi != 0 {
				t.Errorf("LandlockABI() = %d, want 0", abi)
			}
			for _, strict := range []bool{false, true} {
				rs, err := NewRuleset(UnveilOptions{Strict: strict})
				if tt.absent && !strict {
					if err != nil {
						t.Fatalf("NewRuleset: %v, want a ruleset that does nothing", err)
					}
					if err := rs.Add("/does/not/exist", "bad letters"); err != nil {
						t.Errorf("Add: %v, want success", err)
					}
					if err := rs.Add("", "r"); !errors.Is(err, unix.EINVAL) {
						t.Errorf("Add with an empty path: %v, want EINVAL", err)
					}
					if err := rs.RestrictProcess(); err != nil {
						t.Errorf("RestrictProcess: %v, want success", err)
					}
					done := make(chan error)
					go func() { done <- rs.RestrictThread() }() // locks and ends its own thread
					if err := <-done; err != nil {
						t.Errorf("RestrictThread: %v, want success", err)
					}
					if err := rs.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
					continue
				}
				if !errors.Is(err, tt.errno) {
					t.Fatalf("strict=%v: NewRuleset = %v, want an error wrapping %v", strict, err, tt.errno)
				}
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("strict=%v: message %q does not contain %q", strict, err, tt.msg)
				}
				if tt.absent && !strings.Contains(err.Error(), "run without strict mode") {
					t.Errorf("message %q does not say how to get past it", err)
				}
			}
		})
	}
}

// TestUnveilStrict checks the process-wide calls in strict mode; they fail
// before touching the kernel.
func TestUnveilStrict(t *testing.T) {
	withProbe(t, 0, unix.ENOSYS)
	SetUnveilOptions(UnveilOptions{Strict: true})
	defer SetUnveilOptions(UnveilOptions{})
	if err := Unveil("/", "r"); !errors.Is(err, unix.ENOSYS) {
		t.Errorf("Unveil = %v, want an error wrapping ENOSYS", err)
	}
	if err := UnveilCommit(); !errors.Is(err, unix.ENOSYS) {
		t.Errorf("UnveilCommit = %v, want an error wrapping ENOSYS", err)
	}
	if unveilPending != nil {
		t.Errorf("a pending ruleset was kept without Landlock")
	}
}

func mustWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustMkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
}
