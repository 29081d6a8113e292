package pledgecli

import (
	"errors"
	"math"
	"reflect"
	"runtime"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/testutil"
)

func TestLimits(t *testing.T) {
	const inf = math.MaxUint64
	fsize := func(soft, hard uint64) Limit {
		return Limit{Resource: unix.RLIMIT_FSIZE, Name: "RLIMIT_FSIZE", Soft: soft, Hard: hard}
	}
	as := func(n uint64) Limit {
		return Limit{Resource: unix.RLIMIT_AS, Name: "RLIMIT_AS", Soft: n, Hard: n, Late: true}
	}
	nproc := func(n uint64) Limit {
		return Limit{Resource: unix.RLIMIT_NPROC, Name: "RLIMIT_NPROC", Soft: n, Hard: n, Late: true}
	}
	nofile := func(n uint64) Limit {
		return Limit{Resource: unix.RLIMIT_NOFILE, Name: "RLIMIT_NOFILE", Soft: n, Hard: n, Fatal: true, Late: true}
	}
	cpu := func(n uint64) Limit { return Limit{Resource: unix.RLIMIT_CPU, Name: "RLIMIT_CPU", Soft: n, Hard: n} }
	defaults := []Limit{fsize(256000000, 384000000), as(8 << 30), nproc(104), nofile(64)}
	x86 := CPUInfo{GOARCH: "amd64", BaseMHz: 3100}

	tests := []struct {
		name string
		args []string
		cpu  CPUInfo
		want []Limit
	}{
		{"defaults", nil, x86, defaults},
		{"-C 10 at 3.1 GHz", []string{"-C", "10"}, x86, append([]Limit{cpu(10)}, defaults...)},
		{"-C 10 at 2 GHz is scaled up", []string{"-C", "10"}, CPUInfo{"amd64", 2000}, append([]Limit{cpu(16)}, defaults...)},
		{"-C 7 at 4.2 GHz is scaled down", []string{"-C", "7"}, CPUInfo{"amd64", 4200}, append([]Limit{cpu(6)}, defaults...)},
		{"-C without a CPU frequency", []string{"-C", "10"}, CPUInfo{"amd64", 0},
			append([]Limit{{Resource: unix.RLIMIT_CPU, Name: "RLIMIT_CPU", Err: unix.EOPNOTSUPP}}, defaults...)},
		{"-C ignored on arm64", []string{"-C", "10"}, CPUInfo{"arm64", 0}, defaults},
		{"-C 0 leaves CPU alone", []string{"-C", "0"}, x86, defaults},
		{"-C negative leaves CPU alone", []string{"-C", "-5"}, x86, defaults},
		{"all set", []string{"-F", "1m", "-M", "1g", "-P", "7", "-O", "9"}, x86,
			[]Limit{fsize(1<<20, 3<<19), as(1 << 30), nproc(7), nofile(9)}},
		{"-F hard is 1.5 times, truncated", []string{"-F", "3"}, x86,
			[]Limit{fsize(3, 4), as(8 << 30), nproc(104), nofile(64)}},
		{"negative values are huge, as in C", []string{"-F", "-1", "-M", "-1", "-P", "-1", "-O", "-1"}, x86,
			[]Limit{fsize(inf, inf), as(inf), nproc(inf), nofile(inf)}},
		{"-F hard saturates", []string{"-F", "7e"}, x86,
			[]Limit{fsize(7<<60, math.MaxInt64), as(8 << 30), nproc(104), nofile(64)}},
		{"zero is a limit, not a default", []string{"-M", "0", "-O", "0"}, x86,
			[]Limit{fsize(256000000, 384000000), as(0), nproc(104), nofile(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse("pledge", append(tt.args, "ls"), testDefaults)
			if err != nil {
				t.Fatal(err)
			}
			if got := o.Limits(tt.cpu); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Limits:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestLimitApplyError(t *testing.T) {
	err := Limit{Resource: unix.RLIMIT_CPU, Name: "RLIMIT_CPU", Err: unix.EOPNOTSUPP}.Apply()
	var e *Error
	if !errors.As(err, &e) || e.Code != ExitFailure || e.Msg != "setrlimit(RLIMIT_CPU): operation not supported" || !errors.Is(err, unix.EOPNOTSUPP) {
		t.Errorf("got %#v", err)
	}
	if err := (Limit{Resource: 99, Name: "RLIMIT_99"}).Apply(); err != nil {
		t.Errorf("unknown resource: %v, want it ignored", err)
	}
}

func getrlimit(t *testing.T, r int) (cur, max uint64) {
	t.Helper()
	var l syscall.Rlimit
	if err := syscall.Getrlimit(r, &l); err != nil {
		t.Fatal(err)
	}
	return l.Cur, l.Max
}

// TestSetLimit runs as nobody, without CAP_SYS_RESOURCE, so raising a hard
// limit fails and SetLimit must clamp.
func TestSetLimit(t *testing.T) {
	if testutil.InChild(t) {
		r := unix.RLIMIT_FSIZE
		if err := SetLimit(r, 1000, 2000); err != nil {
			t.Fatalf("lowering: %v", err)
		}
		if cur, max := getrlimit(t, r); cur != 1000 || max != 2000 {
			t.Errorf("after (1000, 2000): (%d, %d)", cur, max)
		}
		// Raising the hard limit is refused: clamped to the current hard limit.
		if err := SetLimit(r, 5000, 10000); err != nil {
			t.Fatalf("raising: %v", err)
		}
		if cur, max := getrlimit(t, r); cur != 2000 || max != 2000 {
			t.Errorf("after (5000, 10000): (%d, %d), want clamped to (2000, 2000)", cur, max)
		}
		// Only the soft limit too high.
		SetLimit(r, 1000, 1500)
		if err := SetLimit(r, 1800, 1200); err == nil {
			t.Errorf("soft above hard: no error")
		} else if !errors.Is(err, unix.EINVAL) {
			t.Errorf("soft above hard: %v, want EINVAL", err)
		}
		if cur, max := getrlimit(t, r); cur != 1000 || max != 1500 {
			t.Errorf("a failed SetLimit changed the limit to (%d, %d)", cur, max)
		}
		// RLIMIT_NOFILE through Limit.Apply, as the command does.
		if err := (Limit{Resource: unix.RLIMIT_NOFILE, Name: "RLIMIT_NOFILE", Soft: 64, Hard: 64}).Apply(); err != nil {
			t.Fatal(err)
		}
		if cur, max := getrlimit(t, unix.RLIMIT_NOFILE); cur != 64 || max != 64 {
			t.Errorf("NOFILE (%d, %d)", cur, max)
		}
		if err := SetLimit(-1, 0, 0); err != nil {
			t.Errorf("resource -1: %v", err)
		}
		return
	}
	res := testutil.RunChild(t, &testutil.Options{UID: testutil.Nobody, GID: testutil.Nobody})
	if res.ExitCode != 0 {
		t.Fatalf("child failed (%d):\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
}

func TestMakeNice(t *testing.T) {
	if testutil.InChild(t) {
		runtime.LockOSThread()
		MakeNice()
		prio, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
		if err != nil {
			t.Fatal(err)
		}
		if prio != 1 { // the raw syscall returns 20 - nice
			t.Errorf("getpriority = %d, want 1 (nice 19)", prio)
		}
		policy, _, e := unix.Syscall(unix.SYS_SCHED_GETSCHEDULER, 0, 0, 0)
		if e != 0 || policy != unix.SCHED_IDLE {
			t.Errorf("sched_getscheduler = %d, %v; want SCHED_IDLE", policy, e)
		}
		ioprio, _, e := unix.Syscall(unix.SYS_IOPRIO_GET, ioprioWhoProcess, 0, 0)
		if e != 0 || ioprio != IOPrioIdle {
			t.Errorf("ioprio_get = %#x, %v; want %#x", ioprio, e, IOPrioIdle)
		}
		return
	}
	res := testutil.RunChild(t, nil)
	if res.ExitCode != 0 {
		t.Fatalf("child failed (%d):\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
}

func TestHostCPU(t *testing.T) {
	c := HostCPU()
	if c.GOARCH == "amd64" {
		t.Logf("CPU base frequency: %d MHz", c.BaseMHz)
	} else if c.BaseMHz != 0 {
		t.Errorf("BaseMHz %d on %s", c.BaseMHz, c.GOARCH)
	}
}
