package pledgecli

import (
	"fmt"
	"math"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// CPUInfo is what the -C scaling needs to know about the processor.
type CPUInfo struct {
	// GOARCH is the architecture; -C only has an effect on "amd64".
	GOARCH string
	// BaseMHz is the base frequency from CPUID leaf 0x16, 0 if unknown.
	BaseMHz int
}

// HostCPU describes this machine's processor.
func HostCPU() CPUInfo { return CPUInfo{GOARCH: runtime.GOARCH, BaseMHz: baseMHz()} }

// ReferenceMHz is the CPU frequency -C seconds are measured on.
const ReferenceMHz = 3100

// Limit is one resource limit the command sets (pledge.md §7.5).
type Limit struct {
	// Resource is the RLIMIT_* number and Name its name for messages.
	Resource int
	Name     string
	// Soft and Hard are the values to set; negative option values have
	// become huge ones, as in C (-M -1 is RLIM_INFINITY).
	Soft, Hard uint64
	// Fatal: a failure stops the command with exit 1 (RLIMIT_NOFILE).
	// Other failures are reported on stderr and the command goes on.
	Fatal bool
	// Late: set just before pledging rather than early with the others.
	// pledge.com does this for RLIMIT_NOFILE only (unveiling opens
	// descriptors). vow also delays RLIMIT_AS and RLIMIT_NPROC: a Go
	// process already maps over 1 GiB of address space and starts threads
	// at will, so `-M 512m` or a low -P applied early would crash the
	// command itself with "out of memory" or "failed to create new OS
	// thread" before PROG runs. The messages and their fatality are
	// unchanged; only the moment differs.
	Late bool
	// Err, when not nil, means the limit could not be computed (-C on an
	// x86-64 CPU that does not report its frequency): report
	// "setrlimit(Name): Err" and set nothing.
	Err error
}

// Limits are the resource limits of o in pledge.com's order (§7.5): CPU
// (only with -C > 0, scaled to a 3.1 GHz reference; ignored outside
// x86-64), FSIZE (F, F × 1.5), AS (M, M), NPROC (P, P), and last NOFILE
// (O, O), which is Fatal. AS, NPROC and NOFILE are Late (see Limit.Late).
// Niceness (-n) comes before them all, see MakeNice.
func (o *Options) Limits(cpu CPUInfo) []Limit {
	var l []Limit
	if o.CPUSeconds > 0 && cpu.GOARCH == "amd64" {
		c := Limit{Resource: unix.RLIMIT_CPU, Name: "RLIMIT_CPU"}
		if cpu.BaseMHz == 0 {
			c.Err = unix.EOPNOTSUPP
		} else {
			secs := cint(math.Ceil(float64(ReferenceMHz) / float64(cpu.BaseMHz) * float64(o.CPUSeconds)))
			c.Soft, c.Hard = uint64(secs), uint64(secs)
		}
		l = append(l, c)
	}
	l = append(l,
		Limit{Resource: unix.RLIMIT_FSIZE, Name: "RLIMIT_FSIZE", Soft: uint64(o.FileSize), Hard: uint64(clong(float64(o.FileSize) * 1.5))},
		Limit{Resource: unix.RLIMIT_AS, Name: "RLIMIT_AS", Soft: uint64(o.Memory), Hard: uint64(o.Memory), Late: true},
		Limit{Resource: unix.RLIMIT_NPROC, Name: "RLIMIT_NPROC", Soft: uint64(o.Procs), Hard: uint64(o.Procs), Late: true},
		Limit{Resource: unix.RLIMIT_NOFILE, Name: "RLIMIT_NOFILE", Soft: uint64(o.Files), Hard: uint64(o.Files), Fatal: true, Late: true},
	)
	return l
}

// cint converts like C's (int) of a double in range; pledge.com keeps the
// CPU seconds in an int.
func cint(f float64) int64 { return int64(int32(clong(f))) }

// clong converts a double to a long, saturating where C leaves the
// conversion undefined.
func clong(f float64) int64 {
	switch {
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	case f != f:
		return 0
	}
	return int64(f)
}

// Apply sets the limit with SetLimit. The error is an *Error whose Msg is
// "setrlimit(NAME): reason" and whose Code is ExitFailure; the command
// exits with it only when l.Fatal, otherwise prints it and goes on.
func (l Limit) Apply() error {
	err := l.Err
	if err == nil {
		err = SetLimit(l.Resource, l.Soft, l.Hard)
	}
	if err == nil {
		return nil
	}
	return &Error{Code: ExitFailure, Msg: fmt.Sprintf("setrlimit(%s): %v", l.Name, err), Err: err}
}

// rlimNLimits is RLIM_NLIMITS; SetLimit ignores resources outside 0..15.
const rlimNLimits = 16

// SetLimit sets resource to (soft, hard) like pledge.com's SetLimit: when
// setrlimit fails (typically because hard is above the current hard limit
// and the process may not raise it), it reads the current limits and
// retries with both values clamped to the current hard limit. It uses
// syscall.Setrlimit so that Go's exec does not restore its remembered
// RLIMIT_NOFILE (pledge.md §9.8). Limits are per process.
func SetLimit(resource int, soft, hard uint64) error {
	if resource < 0 || resource >= rlimNLimits {
		return nil
	}
	lim := syscall.Rlimit{Cur: soft, Max: hard}
	if syscall.Setrlimit(resource, &lim) == nil {
		return nil
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(resource, &old); err != nil {
		return err
	}
	lim.Cur = min(lim.Cur, old.Max)
	lim.Max = min(lim.Max, old.Max)
	return syscall.Setrlimit(resource, &lim)
}

// Niceness that -n applies (pledge.md §7.5 step 1).
const (
	// NicePriority is given to setpriority; the kernel clamps it to 19.
	NicePriority = 20
	// IOPrioIdle is IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0).
	IOPrioIdle = 3 << 13
	// ioprioWhoProcess is IOPRIO_WHO_PROCESS.
	ioprioWhoProcess = 1
)

// MakeNice gives the process the lowest priority (-n): setpriority
// (PRIO_PROCESS, 0, 20), ioprio_set(IOPRIO_WHO_PROCESS, 0, idle class) and
// sched_setscheduler(0, SCHED_IDLE, priority 0). Errors are ignored, as in
// pledge.com. All three act on one thread, so MakeNice runs them on every
// thread of the process (see allThreads); the thread that finally calls
// execve passes them on to PROG.
func MakeNice() {
	allThreads(unix.SYS_SETPRIORITY, unix.PRIO_PROCESS, 0, NicePriority)
	allThreads(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, IOPrioIdle)
	param := struct{ priority int32 }{0}
	allThreads(unix.SYS_SCHED_SETSCHEDULER, 0, unix.SCHED_IDLE, uintptr(unsafe.Pointer(&param)))
	runtime.KeepAlive(&param)
}
