// Package speccases reads testdata/pledge-cases.txt, the filter cases
// written by hand from pledge.md, for the emulator tests (sandbox/filter)
// and the real-kernel tests (sandbox).
package speccases

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/vow-sandbox/vow/sandbox/promise"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

// Case is one line: the verdict a filter for Promises must give a system
// call on Arch.
type Case struct {
	Line     int
	Arch     string // "*", "amd64" or "arm64"
	Verdict  string // allow, deny, enosys, eperm
	Promises string
	Syscall  string // kernel name, or "nr:N"
	Args     promise.Args
	Text     string // the whole line, comment included
}

// Path returns the path of the case file, found from this source file.
func Path() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "pledge-cases.txt")
}

// Read parses the case file; $PID in arguments becomes pid.
func Read(path string, pid uint32) ([]Case, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cases []Case
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		text := s.Text()
		line := text
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		c, err := parse(line, pid)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		c.Line, c.Text = n, strings.TrimSpace(text)
		cases = append(cases, c)
	}
	return cases, s.Err()
}

func parse(line string, pid uint32) (Case, error) {
	var c Case
	q1 := strings.IndexByte(line, '"')
	q2 := strings.LastIndexByte(line, '"')
	if q1 < 0 || q2 <= q1 {
		return c, fmt.Errorf("no quoted promise string")
	}
	head := strings.Fields(line[:q1])
	if len(head) != 2 {
		return c, fmt.Errorf("want ARCH VERDICT before the promises")
	}
	c.Arch, c.Verdict, c.Promises = head[0], head[1], line[q1+1:q2]
	switch c.Arch {
	case "*", "amd64", "arm64":
	default:
		return c, fmt.Errorf("unknown arch %q", c.Arch)
	}
	switch c.Verdict {
	case "allow", "deny", "enosys", "eperm":
	default:
		return c, fmt.Errorf("unknown verdict %q", c.Verdict)
	}
	tail := strings.Fields(line[q2+1:])
	if len(tail) == 0 || len(tail) > 7 {
		return c, fmt.Errorf("want SYSCALL and at most 6 args")
	}
	c.Syscall = tail[0]
	for i, a := range tail[1:] {
		var v uint64
		for _, part := range strings.Split(a, "|") {
			var x uint64
			var err error
			switch part {
			case "$PID":
				x = uint64(pid)
			case "$PID+1":
				x = uint64(pid) + 1
			default:
				x, err = strconv.ParseUint(part, 0, 64)
			}
			if err != nil {
				return c, fmt.Errorf("arg %q: %v", a, err)
			}
			v |= x
		}
		c.Args[i] = v
	}
	return c, nil
}

// On reports whether the case applies to architecture a.
func (c *Case) On(a *sysno.Arch) bool { return c.Arch == "*" || c.Arch == a.Name }

// Number returns the system call number of the case on a.
func (c *Case) Number(a *sysno.Arch) (uint32, bool) {
	if n, ok := strings.CutPrefix(c.Syscall, "nr:"); ok {
		v, err := strconv.ParseUint(n, 0, 32)
		return uint32(v), err == nil
	}
	return a.Number(c.Syscall)
}
