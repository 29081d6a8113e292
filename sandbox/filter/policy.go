// Package filter compiles a pledge — a set of promises, a penalty and an
// architecture — into a seccomp-BPF program, and evaluates the same
// policy directly from the promise table as a reference.
//
// The compiled program checks the architecture, then finds the system call
// number with a balanced binary search over ranges of numbers that share a
// verdict. A call allowed without argument checks ends in a RET ALLOW that
// reads nothing but the number and the architecture, so the kernel's
// seccomp action cache serves it without running the filter at all.
package filter

import (
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/sandbox/promise"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

// Penalty is what a violation gets; the values are the PLEDGE_PENALTY_*
// constants of pledge.md §4.1.
type Penalty uint8

// The penalties.
const (
	KillThread  Penalty = 0 // the offending thread dies (SIGSYS)
	KillProcess Penalty = 1 // the whole process dies (SIGSYS)
	ReturnEPERM Penalty = 2 // the call fails with EPERM
)

func (p Penalty) String() string {
	switch p {
	case KillThread:
		return "kill-thread"
	case KillProcess:
		return "kill-process"
	case ReturnEPERM:
		return "EPERM"
	}
	return fmt.Sprintf("penalty(%d)", uint8(p))
}

// Policy is everything a filter is compiled from.
type Policy struct {
	// Arch is the architecture; nil means the native one.
	Arch *sysno.Arch
	// Promises are the granted promises. The promise.Error flag forces
	// the EPERM penalty.
	Promises promise.Set
	// Penalty is the final action for a call no promise allows.
	Penalty Penalty
	// Notify makes violations go to a supervisor (SECCOMP_RET_USER_NOTIF)
	// that logs them and applies the penalty; used for violation logging
	// of child processes.
	Notify bool
	// Runtime adds what the Go runtime needs (promise.Runtime); only for a
	// Go process that pledges itself.
	Runtime bool
	// PID is the process id the self-only kill rules compare with; 0
	// means the calling process.
	PID uint32
	// Beneath, when not nil, are the promises of a supervised filter
	// (Notify, with Runtime, as an in-process pledge) installed before
	// this one: every call that filter refuses is allowed here, so its
	// supervisor, not this filter's penalty, answers it — the kernel
	// would otherwise let an EPERM verdict of this filter override the
	// supervisor's SECCOMP_RET_USER_NOTIF.
	Beneath *promise.Set
}

func (p *Policy) arch() (*sysno.Arch, error) {
	if p.Arch != nil {
		return p.Arch, nil
	}
	if a := sysno.Native(); a != nil {
		return a, nil
	}
	return nil, fmt.Errorf("filter: this architecture is not supported (vow supports x86-64 and arm64)")
}

func (p *Policy) pid() uint32 {
	if p.PID != 0 {
		return p.PID
	}
	return uint32(os.Getpid())
}

// DenyAction returns the seccomp return value for a call no promise
// allows.
func (p *Policy) DenyAction() (uint32, error) {
	switch {
	case p.Promises&promise.Error != 0 && !p.Notify:
		return errno(unix.EPERM), nil
	case p.Notify:
		return unix.SECCOMP_RET_USER_NOTIF, nil
	}
	switch p.Penalty {
	case KillThread:
		return unix.SECCOMP_RET_KILL_THREAD, nil
	case KillProcess:
		return unix.SECCOMP_RET_KILL_PROCESS, nil
	case ReturnEPERM:
		return errno(unix.EPERM), nil
	}
	return 0, fmt.Errorf("filter: unknown penalty %d (want 0 kill-thread, 1 kill-process or 2 EPERM)", p.Penalty)
}

func errno(e unix.Errno) uint32 { return unix.SECCOMP_RET_ERRNO | uint32(e)&unix.SECCOMP_RET_DATA }

// Fixed verdicts of the pre-filter (pledge.md §3.3, §3.4): constants, so
// that the package has nothing to initialise when a process starts.
const (
	retAllow   uint32 = unix.SECCOMP_RET_ALLOW
	retENOSYS  uint32 = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)&unix.SECCOMP_RET_DATA
	retEPERM   uint32 = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)&unix.SECCOMP_RET_DATA
	retForeign uint32 = unix.SECCOMP_RET_KILL_PROCESS
)

// enosysCalls get ENOSYS from the pre-filter.
var enosysCalls = []string{"memfd_create", "openat2", "clone3"}

// firstUnknown is memfd_secret's number: it and every later call get
// ENOSYS.
const firstUnknown uint32 = 447

// Data is struct seccomp_data, what a filter sees of a system call.
type Data struct {
	Nr   uint32
	Arch uint32
	IP   uint64
	Args promise.Args
}

// Bytes encodes d as the kernel lays it out (little endian).
func (d *Data) Bytes() []byte {
	b := make([]byte, 64)
	binary.LittleEndian.PutUint32(b[0:], d.Nr)
	binary.LittleEndian.PutUint32(b[4:], d.Arch)
	binary.LittleEndian.PutUint64(b[8:], d.IP)
	for i, a := range d.Args {
		binary.LittleEndian.PutUint64(b[16+8*i:], a)
	}
	return b
}

// Offsets in struct seccomp_data.
const (
	offNr   = 0
	offArch = 4
)

func argLo(i int) uint32 { return uint32(16 + 8*i) }
func argHi(i int) uint32 { return uint32(16 + 8*i + 4) }

// Describe names a seccomp return value: "allow", "errno EPERM",
// "kill-process", ...
func Describe(ret uint32) string {
	switch ret & unix.SECCOMP_RET_ACTION_FULL {
	case unix.SECCOMP_RET_ALLOW:
		return "allow"
	case unix.SECCOMP_RET_ERRNO:
		return "errno " + unix.ErrnoName(unix.Errno(ret&unix.SECCOMP_RET_DATA))
	case unix.SECCOMP_RET_KILL_PROCESS:
		return "kill-process"
	case unix.SECCOMP_RET_KILL_THREAD:
		return "kill-thread"
	case unix.SECCOMP_RET_TRAP:
		return "trap"
	case unix.SECCOMP_RET_USER_NOTIF:
		return "notify"
	case unix.SECCOMP_RET_LOG:
		return "log"
	case unix.SECCOMP_RET_TRACE:
		return "trace"
	}
	return fmt.Sprintf("%#x", ret)
}

// grant is what a policy allows for one system call: nothing, anything
// (unconditional), or calls passing one of its rules.
type grant struct {
	any   bool
	rules []promise.Rule
	opens []promise.Open
}

func (x *grant) add(r promise.Rule) {
	switch r := r.(type) {
	case nil:
		x.any = true
	case promise.Open:
		x.opens = append(x.opens, r)
	default:
		x.rules = append(x.rules, r)
	}
}

// grant returns what the policy grants for one system call on a, or nil:
// the entries of the default block, of each granted promise and, with
// Runtime, of the Go runtime's set.
func (p *Policy) grant(a *sysno.Arch, syscall string) *grant {
	if _, ok := a.Number(syscall); !ok {
		return nil
	}
	var x *grant
	each := func(es []promise.Entry) {
		for _, e := range es {
			if e.Syscall == syscall {
				if x == nil {
					x = &grant{}
				}
				x.add(e.Rule)
			}
		}
	}
	each(promise.Default)
	for _, pr := range p.Promises.Promises() {
		each(promise.Entries(pr))
	}
	if p.Runtime {
		each(promise.Runtime)
	}
	return x
}

// mergeRules returns the argument rule of a system call granted by rules
// and opens (one of them must pass), simplified, and whether any call can
// pass at all.
func mergeRules(rules []promise.Rule, opens []promise.Open) (promise.Rule, bool) {
	if len(rules) == 1 && len(opens) == 0 {
		return simplify(rules[0]), true
	}
	alts := make(promise.Or, 0, len(rules)+1)
	alts = append(alts, rules...)
	if len(opens) > 0 {
		if low, ok := promise.MergeOpen(opens).Lower(); ok {
			alts = append(alts, low)
		}
	}
	if len(alts) == 0 {
		return nil, false
	}
	return simplify(single(alts)), true
}

// Evaluate decides a system call directly from the promise table, without
// BPF: the reference the compiled programs are tested against.
func Evaluate(p *Policy, d *Data) (uint32, error) {
	a, err := p.arch()
	if err != nil {
		return 0, err
	}
	deny, err := p.DenyAction()
	if err != nil {
		return 0, err
	}
	if d.Arch != a.Audit {
		return retForeign, nil
	}
	if d.Nr >= firstUnknown {
		return retENOSYS, nil
	}
	name := a.SyscallName(d.Nr)
	for _, n := range enosysCalls {
		if name == n {
			return retENOSYS, nil
		}
	}
	if name == "exit_group" && p.Promises.Empty() && !p.Runtime {
		return retEPERM, nil
	}
	if p.Beneath != nil {
		below := &Policy{Arch: a, Promises: *p.Beneath, Penalty: ReturnEPERM, Runtime: true, PID: p.PID}
		if v, err := Evaluate(below, d); err != nil || v != retAllow {
			return retAllow, err // the supervised filter answers it
		}
	}
	x := p.grant(a, name)
	if x == nil || name == "" {
		return deny, nil
	}
	if x.any {
		return retAllow, nil
	}
	ctx := promise.Context{PID: p.pid()}
	for _, r := range x.rules {
		if r.Match(&d.Args, ctx) {
			return retAllow, nil
		}
	}
	if len(x.opens) > 0 && promise.MergeOpen(x.opens).Match(&d.Args, ctx) {
		return retAllow, nil
	}
	return deny, nil
}
