package host

import (
	"io"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// spinFor is how long a read from a child tries again before the
// goroutine parks in the netpoller. A worker usually answers a small call
// within a few microseconds, but waking a goroutine whose thread went to
// sleep costs tens of microseconds on an idle (virtual) machine; spinning
// briefly keeps the median pool call near 10 µs instead of 40–50 µs, for
// at most this much CPU per call. (The children do not spin: they run on
// one P, where spinning would hold up the interpreter.)
const spinFor = 50 * time.Microsecond

// spinReader reads a non-blocking file, polling it for up to spinFor
// before it waits in the netpoller; deadlines apply as for the file.
type spinReader struct {
	rc    syscall.RawConn
	read  func(fd uintptr) bool // s.readFD, bound once
	buf   []byte
	n     int
	err   error
	start time.Time
}

func newSpinReader(f *os.File) io.Reader {
	rc, err := f.SyscallConn()
	if err != nil {
		return f
	}
	s := &spinReader{rc: rc}
	s.read = s.readFD
	return s
}

func (s *spinReader) readFD(fd uintptr) bool {
	for i := 0; ; i++ {
		s.n, s.err = unix.Read(int(fd), s.buf)
		if s.err != unix.EAGAIN {
			return true
		}
		if i&7 == 7 && time.Since(s.start) > spinFor {
			return false // wait until readable, then try once more
		}
	}
}

func (s *spinReader) Read(b []byte) (int, error) {
	s.buf, s.n, s.err, s.start = b, 0, nil, time.Now()
	err := s.rc.Read(s.read)
	s.buf = nil
	switch {
	case err != nil:
		return 0, err
	case s.err != nil:
		return 0, &os.PathError{Op: "read", Path: "pipe from the sandboxed child", Err: s.err}
	case s.n == 0 && len(b) > 0:
		return 0, io.EOF
	}
	return s.n, nil
}
