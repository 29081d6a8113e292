package sandbox

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/pledgecli"
)

// The parent prepares the launch while the launcher's Go runtime starts
// (a millisecond during which the parent would only wait): it looks the
// program up, works out its promises, compiles the filter for the
// launcher's pid and builds the unveil ruleset, then sends them with the
// ruleset's descriptor in a 'P' frame. The launcher then only restricts
// itself. This takes the slowest steps off the path of every launch.
//
// It is only done when the parent sees the files as the launcher will:
// no Chroot, no Dir, no change of user or group, not a set-user-ID
// install, and the parent has not pledged itself. The capabilities the launcher will drop are dropped on the
// preparing thread while it builds the ruleset (unveil runs after the
// capability drop in pledge.com's order).

// prepareLaunches can be turned off by tests, to run the launcher's own
// way of working the plan out.
var prepareLaunches = true

// framePlan is the parent's prepared plan (launcher.go's protocol).
const framePlan = 'P'

// preparable reports whether the parent may prepare the launch. A
// pledged parent does not: its own filter may refuse (or punish with
// death) the Landlock and capability calls of the preparation, which the
// launcher then makes at its own risk.
func (s *launchSpec) preparable() bool {
	c := pledgecli.CurrentCreds()
	_, pledged := Pledged()
	return s.Chroot == "" && s.Dir == "" && s.UID == 0 && s.GID == 0 && !c.SetuidInstall() && !pledged
}

// prepare works the plan out in the parent for the launcher with the given
// pid; stdin is the program's standard input (for the tty unveils).
func (s *launchSpec) prepare(pid int, stdin *os.File) (*launchPlan, *LaunchError) {
	pl, le := s.plan(pledgecli.CurrentCreds(), pid)
	if le != nil {
		return nil, le
	}
	if s.AutoUnveil || s.Unveil != nil {
		if le := s.prepareRuleset(pl, stdin); le != nil {
			return nil, le
		}
	}
	return pl, nil
}

// prepareRuleset builds the unveil ruleset in the parent, with the
// effective capabilities the launch will drop dropped meanwhile (unveil
// runs after the capability drop in pledge.com's order).
func (s *launchSpec) prepareRuleset(pl *launchPlan, stdin *os.File) *LaunchError {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if s.DropCaps {
		restore, err := dropEffectiveCaps()
		if err != nil {
			return &LaunchError{Code: pledgecli.ExitCapDrop, Msg: s.Name + ": " + err.Error(), Errno: errnoOf(err)}
		}
		defer restore()
	}
	var le *LaunchError
	pl.rs, le = s.ruleset(pl, ttyName(stdin))
	return le
}

// dropEffectiveCaps empties the calling thread's effective capabilities
// (keeping the permitted ones) and returns the function that restores
// them; the thread must be locked.
func dropEffectiveCaps() (restore func(), err error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var old [2]unix.CapUserData
	if _, _, e := unix.RawSyscall(unix.SYS_CAPGET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&old[0])), 0); e != 0 {
		return nil, fmt.Errorf("capget: %w", e)
	}
	if old[0].Effective == 0 && old[1].Effective == 0 {
		return func() {}, nil
	}
	set := func(data *[2]unix.CapUserData) unix.Errno {
		h := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		_, _, e := unix.RawSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&h)), uintptr(unsafe.Pointer(&data[0])), 0)
		return e
	}
	none := old
	none[0].Effective, none[1].Effective = 0, 0
	if e := set(&none); e != 0 {
		return nil, fmt.Errorf("capset (dropping the effective capabilities to unveil as the program will): %w", e)
	}
	return func() { set(&old) }, nil
}

// ttyName is the terminal f is, or "".
func ttyName(f *os.File) string {
	fd := int(f.Fd())
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		return ""
	}
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil || len(p) == 0 || p[0] != '/' {
		return ""
	}
	return p
}

// sendPlan sends a prepared plan and closes its ruleset.
func sendPlan(sock int, pl *launchPlan) error {
	b := frame(framePlan, pl.encode())
	var oob []byte
	if pl.rs != nil {
		oob = unix.UnixRights(pl.rs.fd)
		defer pl.rs.Close()
	}
	n, err := unix.SendmsgN(sock, b, oob, nil, 0)
	if err != nil {
		return err
	}
	return sendAll(sock, b[n:])
}

// receivePlan reads the parent's 'P' frame in the launcher.
func receivePlan(sync int) (*launchPlan, *LaunchError) {
	fail := func(err error) *LaunchError {
		return &LaunchError{Code: pledgecli.ExitFailure, Msg: "sandbox: launcher: receiving the prepared launch: " + err.Error(), Errno: errnoOf(err)}
	}
	var hdr [5]byte
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(sync, hdr[:], oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fail(err)
	}
	if n == 0 {
		return nil, fail(fmt.Errorf("the parent closed the connection"))
	}
	if err := readFull(sync, hdr[n:]); err != nil {
		return nil, fail(err)
	}
	if hdr[0] != framePlan {
		return nil, fail(fmt.Errorf("bug: frame %q instead of the plan", hdr[0]))
	}
	payload := make([]byte, int(uint32(hdr[1])|uint32(hdr[2])<<8|uint32(hdr[3])<<16|uint32(hdr[4])<<24))
	if err := readFull(sync, payload); err != nil {
		return nil, fail(err)
	}
	pl, hasRuleset, err := decodePlan(payload)
	if err != nil {
		return nil, fail(err)
	}
	if hasRuleset {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			return nil, fail(fmt.Errorf("bug: no ruleset descriptor with the plan (%v)", err))
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			return nil, fail(fmt.Errorf("bug: no ruleset descriptor with the plan (%v)", err))
		}
		pl.rs = &Ruleset{fd: fds[0], abi: LandlockABI()}
	}
	return pl, nil
}
