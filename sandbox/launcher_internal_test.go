package sandbox

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/sandbox/promise"
)

func TestSpecCodec(t *testing.T) {
	p, e := "stdio rpath", ""
	for _, s := range []*launchSpec{
		{},
		{Name: "pledge", Path: "ls", Args: []string{"ls", "-l", ""}, Env: []string{}, Dir: "/tmp",
			Promises: &p, ExecPromises: &e, Implicit: true, Mode: PenaltyKillProcess, Notify: true,
			Unveil: []UnveilRule{{Path: "/a", Perms: "rwc", IfExists: true}, {Path: "/b"}}, AutoUnveil: true, UnveilStrict: true,
			Rlimits: []Rlimit{{Resource: 7, Cur: 64, Max: unix.RLIM_INFINITY, Optional: true}}, Nice: true,
			UID: 65534, GID: -2, Groups: []int{}, Chroot: "/jail", DropCaps: true, NormalizeFDs: true, Prepared: true},
		{Unveil: []UnveilRule{}, Groups: []int{1, 2}},
	} {
		got, err := decodeSpec(s.encode())
		if err != nil || !reflect.DeepEqual(got, s) {
			t.Errorf("round trip of %+v: %+v, %v", s, got, err)
		}
	}
	if _, err := decodeSpec([]byte{1, 2, 3}); err == nil {
		t.Error("a short frame decoded")
	}
	le := &LaunchError{Code: 20, Msg: "x: y", Errno: unix.ENOENT}
	if got, err := decodeLaunchError(le.encode()); err != nil || *got != *le {
		t.Errorf("LaunchError round trip: %+v, %v", got, err)
	}
	set := promise.MustParse("stdio inet")
	pl := &launchPlan{path: "/bin/true", execPaths: []string{"/bin/true", "/lib/ld.so"}, final: &set,
		insns: []unix.SockFilter{{Code: 0x20, Jt: 1, Jf: 2, K: 0xdeadbeef}, {Code: 6, K: 0x7fff0000}}}
	got, hasRS, err := decodePlan(pl.encode())
	if err != nil || hasRS || got.path != pl.path || !reflect.DeepEqual(got.execPaths, pl.execPaths) || *got.final != set || !reflect.DeepEqual(got.insns, pl.insns) {
		t.Errorf("plan round trip: %+v, %v", got, err)
	}
}

// TestLaunchWaysAgree runs the same launches the three ways: forked
// directly (fork.go), through the launcher with the plan prepared by the
// parent, and through the launcher working it out itself: same outcome,
// same errors.
func TestLaunchWaysAgree(t *testing.T) {
	if LandlockABI() == 0 {
		t.Skip("needs Landlock")
	}
	probe := testutil.Probe(t)
	defer func() { prepareLaunches, forkLaunches = true, true }()
	dir := t.TempDir()
	os.WriteFile(dir+"/f", []byte("x"), 0o644)
	for _, c := range []struct {
		args    []string
		unveil  []UnveilRule
		auto    bool
		want    string
		wantErr string
	}{
		{[]string{"read", dir + "/f"}, []UnveilRule{{Path: dir, Perms: "r"}}, true, "ok", ""},
		{[]string{"read", "/etc/passwd"}, []UnveilRule{{Path: dir, Perms: "r"}}, true, "EACCES", ""},
		{[]string{"write", "/dev/null"}, nil, true, "ok", ""}, // automatic unveil of stdio
		{[]string{"inet"}, nil, true, "EPERM", ""},
		{[]string{"killself"}, nil, true, "ok", ""},
		// The program itself is not unveiled: the exec check refuses it.
		{[]string{"getpid"}, []UnveilRule{{Path: dir, Perms: "r"}}, false, "", probe + ": permission denied; if unveil is in use"},
		{[]string{"getpid"}, []UnveilRule{{Path: dir + "/missing", Perms: "r"}}, false, "", "no such file or directory"},
	} {
		for _, way := range []string{"direct", "prepared", "launcher"} {
			forkLaunches = way == "direct"
			prepareLaunches = way != "launcher"
			var out, log bytes.Buffer
			r, w, _ := os.Pipe()
			p := "stdio rpath wpath"
			cmd := &Cmd{Path: probe, Args: append([]string{"probe"}, c.args...), Promises: &p, ImplicitPromises: true,
				AutoUnveil: c.auto, Unveil: c.unveil, DropCapabilities: true, Stdout: w, Log: &log}
			err := cmd.Start()
			w.Close()
			if err == nil {
				out.ReadFrom(r)
				err = cmd.Wait()
			}
			r.Close()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Errorf("%s: probe %q: error %v, want one containing %q", way, c.args, err, c.wantErr)
				}
				continue
			}
			if err != nil || strings.TrimSpace(out.String()) != c.want {
				t.Errorf("%s: probe %q: %q, %v; want %s", way, c.args, out.String(), err, c.want)
			}
		}
	}
}
