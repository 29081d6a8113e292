package pledgecli

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Creds are the process ids when the command starts (pledge.md §7.8 step
// 6), taken before anything changes them.
type Creds struct {
	UID, EUID, GID, EGID int
}

// CurrentCreds reads the real and effective user and group ids.
func CurrentCreds() Creds {
	return Creds{UID: syscall.Getuid(), EUID: syscall.Geteuid(), GID: syscall.Getgid(), EGID: syscall.Getegid()}
}

// SetuidInstall reports a setuid or setgid install: the real and effective
// ids differ.
func (c Creds) SetuidInstall() bool { return c.UID != c.EUID || c.GID != c.EGID }

// BecomeOwner makes a setuid/setgid install take the owner's ids fully
// (setuid(euid), setgid(egid); errors ignored, as in pledge.com), so that
// it can chroot. It does nothing otherwise.
func BecomeOwner(c Creds) {
	if !c.SetuidInstall() {
		return
	}
	syscall.Setuid(c.EUID)
	syscall.Setgid(c.EGID)
}

// CheckSetuidFlags refuses -u and -g in a setuid/setgid install (exit 6,
// pledge.md §7.8 step 7).
func CheckSetuidFlags(o *Options, c Creds) error {
	if c.SetuidInstall() && (o.UID != 0 || o.GID != 0) {
		return &Error{Code: ExitSetuidFlags, Msg: o.Name + ": setuid flags forbidden on setuid binaries (-u and -g need a plain install run by root)"}
	}
	return nil
}

// CheckNoDrop refuses -D in a setuid/setgid install (exit 6, pledge.md
// §7.8 step 13).
func CheckNoDrop(o *Options, c Creds) error {
	if c.SetuidInstall() && o.NoDrop {
		return &Error{Code: ExitSetuidFlags, Msg: o.Name + ": -D flag forbidden on setuid binaries"}
	}
	return nil
}

// WithFSIDs runs fn with the filesystem ids of the invoking user when c is
// a setuid/setgid install (setfsuid/setfsgid on a locked thread, restored
// afterwards), and simply runs it otherwise. pledge.com checks the chroot
// directory and looks PROG up this way, so a setuid install never opens
// for its user what the user could not open.
func WithFSIDs(c Creds, fn func() error) error {
	if !c.SetuidInstall() {
		return fn()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	oldUID, _ := unix.SetfsuidRetUid(c.UID)
	oldGID, _ := unix.SetfsgidRetGid(c.GID)
	defer func() {
		unix.SetfsuidRetUid(oldUID)
		unix.SetfsgidRetGid(oldGID)
	}()
	return fn()
}

// EnterChroot does -c (pledge.md §7.8 steps 8–9): for a setuid install it
// first checks that the invoking user may read path (exit 7), then
// chdir(path) (exit 8) and chroot(path) (exit 9). PROG is looked up
// afterwards, inside the jail.
//
// vow checks with faccessat2(AT_EACCESS) under the user's filesystem ids;
// pledge.com's access() used the real uid, which it had already made root.
func EnterChroot(name, path string, c Creds) error {
	if c.SetuidInstall() {
		err := WithFSIDs(c, func() error {
			err := unix.Faccessat2(unix.AT_FDCWD, path, unix.R_OK, unix.AT_EACCESS)
			if errors.Is(err, unix.ENOSYS) {
				err = unix.Access(path, unix.R_OK)
			}
			return err
		})
		if err != nil {
			return &Error{Code: ExitChrootAccess, Msg: fmt.Sprintf("%s: %s: %v (the chroot directory must be readable by you)", name, path, err), Err: err}
		}
	}
	if err := syscall.Chdir(path); err != nil {
		return &Error{Code: ExitChdir, Msg: fmt.Sprintf("%s: %s: %v", name, path, err), Err: err}
	}
	if err := syscall.Chroot(path); err != nil {
		msg := fmt.Sprintf("%s: %s: %v", name, path, err)
		if errors.Is(err, unix.EPERM) {
			msg += " (chroot needs root or CAP_SYS_CHROOT)"
		}
		return &Error{Code: ExitChroot, Msg: msg, Err: err}
	}
	return nil
}

// DropBoundingSet empties the capability bounding set (pledge.md §7.8 step
// 14, skipped with -D): PR_CAPBSET_DROP for 0, 1, 2, … until it fails;
// EINVAL (past the last capability) or EPERM (not privileged, the normal
// case for an ordinary user) end the loop quietly, any other error is exit
// 25. The bounding set is per thread: see allThreads for which threads
// change.
func DropBoundingSet() error {
	for i := uintptr(0); ; i++ {
		e := allThreads(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, i, 0)
		switch e {
		case 0:
			continue
		case unix.EINVAL, unix.EPERM:
			return nil
		}
		return &Error{Code: ExitCapDrop, Msg: fmt.Sprintf("prctl(PR_CAPBSET_DROP, %d): %v", i, e), Err: e}
	}
}

// ClearCapabilities empties the ambient set (PR_CAP_AMBIENT_CLEAR_ALL) and
// the effective, permitted and inheritable sets (capset), per thread as
// allThreads says, so that PROG starts without capabilities even as root (vow; pledge.com
// only dropped the bounding set). Skipped with -D. Call it after SetIDs:
// setgroups, setgid and setuid need CAP_SETGID/CAP_SETUID. Failure is exit
// 25.
func ClearCapabilities() error {
	e := allThreads(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0)
	if e != 0 && e != unix.EINVAL { // EINVAL: kernel before 4.3, no ambient set
		return &Error{Code: ExitCapDrop, Msg: "prctl(PR_CAP_AMBIENT_CLEAR_ALL): " + e.Error(), Err: e}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	e = allThreads(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	runtime.KeepAlive(&hdr)
	runtime.KeepAlive(&data)
	if e != 0 {
		return &Error{Code: ExitCapDrop, Msg: "capset: clearing the capability sets failed: " + e.Error(), Err: e}
	}
	return nil
}

// SetIDs switches group and user before exec (pledge.md §7.8 steps 15–16).
// A setgid install returns to the real gid (exit 11, verification exit 12)
// and a setuid install to the real uid (15, 16). Otherwise, when -u or -g
// is given, the supplementary groups are cleared first (vow, §0.16;
// failure: exit 13 with -g, 17 with -u only), then setgid(gid) (13,
// verification 14) and setuid(uid) (17, verification 18). A zero uid or gid
// means "not given". The changes apply to all threads (Go's syscall
// package).
func SetIDs(name string, c Creds, uid, gid int) error {
	return SetIDsGroups(name, c, uid, gid, nil)
}

// SetIDsGroups is SetIDs with the supplementary groups to set when -u or
// -g is given: groups instead of none (nil clears them, as SetIDs).
func SetIDsGroups(name string, c Creds, uid, gid int, groups []int) error {
	if groups == nil {
		groups = []int{}
	}
	fail := func(code int, what string, err error) error {
		return &Error{Code: code, Msg: fmt.Sprintf("%s: %s: %v", name, what, err), Err: err}
	}
	broken := func(code int, what string) error {
		return &Error{Code: code, Msg: "error: " + what + "() broken"}
	}
	if !c.SetuidInstall() && (uid != 0 || gid != 0) {
		if err := syscall.Setgroups(groups); err != nil {
			code := ExitSetgid
			if gid == 0 {
				code = ExitSetuid
			}
			return fail(code, "setgroups (clearing supplementary groups)", err)
		}
	}
	switch {
	case c.GID != c.EGID:
		if err := syscall.Setgid(c.GID); err != nil {
			return fail(ExitSetgidInstall, "setgid", err)
		}
		if syscall.Getgid() != c.GID || syscall.Getegid() != c.GID {
			return broken(ExitSetgidInstallVerify, "setgid")
		}
	case gid != 0:
		if err := syscall.Setgid(gid); err != nil {
			return fail(ExitSetgid, "setgid", err)
		}
		if !sameID(syscall.Getgid(), gid) || !sameID(syscall.Getegid(), gid) {
			return broken(ExitSetgidVerify, "setgid")
		}
	}
	switch {
	case c.UID != c.EUID:
		if err := syscall.Setuid(c.UID); err != nil {
			return fail(ExitSetuidInstall, "setuid", err)
		}
		if syscall.Getuid() != c.UID || syscall.Geteuid() != c.UID {
			return broken(ExitSetuidInstallVerify, "setuid")
		}
	case uid != 0:
		if err := syscall.Setuid(uid); err != nil {
			return fail(ExitSetuid, "setuid", err)
		}
		if !sameID(syscall.Getuid(), uid) || !sameID(syscall.Geteuid(), uid) {
			return broken(ExitSetuidVerify, "setuid")
		}
	}
	return nil
}

// sameID compares ids as the kernel's 32-bit uid_t/gid_t, like C's
// getuid() != g_uflag does (-u -2 is uid 4294967294).
func sameID(a, b int) bool { return uint32(a) == uint32(b) }

// execThreadOnly is set by ExecThreadOnly.
var execThreadOnly atomic.Bool

// ExecThreadOnly makes MakeNice, DropBoundingSet and ClearCapabilities
// change the calling thread only instead of every thread of the process.
// Call it on the locked thread that will call execve: that thread's
// state is all the new program inherits (the other threads end at
// execve), and changing every thread stops the world once per system
// call, some forty times for the bounding set.
func ExecThreadOnly() { execThreadOnly.Store(true) }

// allThreads makes a system call on every thread of the process
// (syscall.AllThreadsSyscall), for the per-thread state the command changes
// (capabilities, niceness). When cgo is linked (e.g. under -race),
// AllThreadsSyscall is not available and the call is made on the calling
// thread only; the command runs these steps on the locked thread that
// finally calls execve (pledge.md §9.8), which is the thread PROG inherits
// from, so the result is the same for PROG.
func allThreads(trap, a1, a2, a3 uintptr) syscall.Errno {
	if execThreadOnly.Load() {
		_, _, e := syscall.RawSyscall(trap, a1, a2, a3)
		return e
	}
	_, _, e := syscall.AllThreadsSyscall(trap, a1, a2, a3)
	if e == syscall.ENOTSUP {
		_, _, e = syscall.Syscall(trap, a1, a2, a3)
	}
	return e
}
