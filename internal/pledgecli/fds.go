package pledgecli

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// maxPollFDs is the size of pledge.com's pollfd array.
const maxPollFDs = 256

// NormalizeFDs prepares descriptors for PROG (pledge.md §7.11, unless -N):
// every descriptor ≥ 3 is marked close-on-exec, so that none leaks into
// PROG (vow does not close them: the Go runtime owns some, §9.8); then
// descriptors 0, 1 and 2 that are not open are opened on /dev/null.
//
// Steps and failures, as pledge.com: close_range(3, ~0, CLOSE_RANGE_CLOEXEC)
// (falling back to /proc/self/fd); poll descriptors 0..n-1 with n =
// min(256, max(3, soft RLIMIT_NOFILE)) (failure: exit 1); open /dev/null
// for each of 0..2 reported POLLNVAL (failure: exit 2; landing on another
// number: exit 3); mark any of 3..n-1 still open close-on-exec (failure:
// exit 4).
func NormalizeFDs() error {
	if err := unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC); err != nil {
		if err := cloexecFrom(3); err != nil {
			return &Error{Code: ExitCloseFD, Msg: "close: marking inherited descriptors close-on-exec failed: " + err.Error(), Err: err}
		}
	}
	n := 64
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil {
		n = int(min(rl.Cur, maxPollFDs))
	}
	n = min(maxPollFDs, max(3, n))
	pfds := make([]unix.PollFd, n)
	for i := range pfds {
		pfds[i] = unix.PollFd{Fd: int32(i), Events: unix.POLLIN}
	}
	for {
		_, err := unix.Poll(pfds, 0)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EINTR) {
			return &Error{Code: ExitFailure, Msg: "poll: " + err.Error(), Err: err}
		}
	}
	for i := 0; i < 3; i++ {
		if pfds[i].Revents&unix.POLLNVAL == 0 {
			continue
		}
		// Not os.OpenFile: it would set O_CLOEXEC.
		fd, err := unix.Open("/dev/null", unix.O_RDWR, 0)
		if err != nil {
			return &Error{Code: ExitDevNull, Msg: "/dev/null: " + err.Error(), Err: err}
		}
		if fd != i {
			return &Error{Code: ExitDevNullFD, Msg: fmt.Sprintf("poll() or open() is broken: /dev/null opened as descriptor %d instead of %d", fd, i)}
		}
	}
	for i := 3; i < n; i++ {
		if pfds[i].Revents&unix.POLLNVAL != 0 {
			continue
		}
		if err := setCloexec(i); err != nil {
			return &Error{Code: ExitCloseFD, Msg: fmt.Sprintf("close: marking descriptor %d close-on-exec failed: %v", i, err), Err: err}
		}
	}
	return nil
}

// cloexecFrom marks every open descriptor ≥ first close-on-exec, listing
// them in /proc/self/fd (for kernels before 5.11 without
// CLOSE_RANGE_CLOEXEC).
func cloexecFrom(first int) error {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < first {
			continue
		}
		// The descriptor ReadDir used is closed by now: EBADF is fine.
		if err := setCloexec(fd); err != nil && !errors.Is(err, unix.EBADF) {
			return err
		}
	}
	return nil
}

func setCloexec(fd int) error {
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		return err
	}
	if flags&unix.FD_CLOEXEC != 0 {
		return nil
	}
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFD, flags|unix.FD_CLOEXEC)
	return err
}
