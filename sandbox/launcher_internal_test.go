package sandbox

import (
	"bytes"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/sandbox/filter"
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
		limits  []Rlimit
	}{
		{[]string{"read", dir + "/f"}, []UnveilRule{{Path: dir, Perms: "r"}}, true, "ok", "", nil},
		{[]string{"read", "/etc/passwd"}, []UnveilRule{{Path: dir, Perms: "r"}}, true, "EACCES", "", nil},
		{[]string{"write", "/dev/null"}, nil, true, "ok", "", nil}, // automatic unveil of stdio
		{[]string{"inet"}, nil, true, "EPERM", "", nil},
		{[]string{"killself"}, nil, true, "ok", "", nil},
		// The program itself is not unveiled: the exec check refuses it.
		{[]string{"getpid"}, []UnveilRule{{Path: dir, Perms: "r"}}, false, "", probe + ": permission denied; if unveil is in use", nil},
		{[]string{"getpid"}, []UnveilRule{{Path: dir + "/missing", Perms: "r"}}, false, "", "no such file or directory", nil},
		// Resource limits: set, refused (soft above hard), refused but
		// optional (printed, the program runs).
		{[]string{"rlimits"}, nil, true, "nofile 32/32", "", []Rlimit{{Resource: unix.RLIMIT_NOFILE, Cur: 32, Max: 32}}},
		{[]string{"getpid"}, nil, true, "", "setrlimit(RLIMIT_CORE): invalid argument", []Rlimit{{Resource: unix.RLIMIT_CORE, Cur: 10, Max: 5}}},
		{[]string{"rlimits"}, nil, true, "nofile 48/48", "", []Rlimit{{Resource: unix.RLIMIT_CORE, Cur: 10, Max: 5, Optional: true}, {Resource: unix.RLIMIT_NOFILE, Cur: 48, Max: 48}}},
	} {
		for _, way := range []string{"direct", "prepared", "launcher"} {
			forkLaunches = way == "direct"
			prepareLaunches = way != "launcher"
			var out, log bytes.Buffer
			r, w, _ := os.Pipe()
			p := "stdio rpath wpath"
			cmd := &Cmd{Path: probe, Args: append([]string{"probe"}, c.args...), Promises: &p, ImplicitPromises: true,
				AutoUnveil: c.auto, Unveil: c.unveil, DropCapabilities: true, Stdout: w, Log: &log, Rlimits: c.limits}
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
			got := strings.TrimSpace(out.String())
			if strings.HasPrefix(c.want, "nofile ") && strings.Contains(out.String(), "\n"+c.want+"\n") {
				got = c.want
			}
			if err != nil || got != c.want {
				t.Errorf("%s: probe %q: %q, %v; want %s", way, c.args, out.String(), err, c.want)
			}
		}
	}
}

// TestPIDSlots: the direct launch compiles the filter naming
// pidPlaceholder and the child writes its pid into the instructions
// pidSlots finds. That is right only if those are exactly the ones that
// change with the pid: compile every single promise and all of them with
// two pids and compare.
func TestPIDSlots(t *testing.T) {
	sets := []promise.Set{promise.All}
	for p := promise.Promise(0); p < promise.Count; p++ {
		sets = append(sets, promise.Of(p), promise.Of(p)|promise.Of(promise.Stdio))
	}
	for _, set := range sets {
		for _, notify := range []bool{false, true} {
			a, err := filter.Compile(&filter.Policy{Promises: set, Penalty: filter.ReturnEPERM, Notify: notify, PID: pidPlaceholder})
			if err != nil {
				t.Fatal(err)
			}
			b, err := filter.Compile(&filter.Policy{Promises: set, Penalty: filter.ReturnEPERM, Notify: notify, PID: 4242})
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Insns) != len(b.Insns) {
				t.Fatalf("%v: %d vs %d instructions: the pid changes the layout", set, len(a.Insns), len(b.Insns))
			}
			slots := pidSlots(a.Insns, pidPlaceholder)
			var differ []int
			for i := range a.Insns {
				if a.Insns[i] != b.Insns[i] {
					differ = append(differ, i)
				}
			}
			if !slices.Equal(slots, differ) {
				t.Errorf("%v: pidSlots %v, instructions that change with the pid %v", set, slots, differ)
			}
			for _, i := range slots {
				if b.Insns[i].K != 4242 {
					t.Errorf("%v: slot %d holds %#x with pid 4242", set, i, b.Insns[i].K)
				}
			}
			if set&promise.Of(promise.Stdio) != 0 && set&promise.Of(promise.Proc) == 0 && len(slots) == 0 {
				t.Errorf("%v: no pid slot, but without proc stdio's kill and tgkill are self-only", set)
			}
		}
	}
}
