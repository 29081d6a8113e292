package vowcmd

import (
	"testing"

	"github.com/vow-sandbox/vow/sandbox"
	"github.com/vow-sandbox/vow/sandbox/promise"
)

func TestDescribeViolation(t *testing.T) {
	for _, c := range []struct {
		v    sandbox.Violation
		want string
	}{
		{sandbox.Violation{Nr: 0x101, Syscall: "openat", Promises: []promise.Promise{promise.Wpath}},
			"openat (ord=101) needs the promise 'wpath'"},
		{sandbox.Violation{Nr: 0x101, Syscall: "openat", Promises: []promise.Promise{promise.Wpath, promise.Cpath}, Together: true},
			"openat (ord=101) needs the promises 'wpath' and 'cpath'"},
		{sandbox.Violation{Nr: 0x29, Syscall: "socket", Promises: []promise.Promise{promise.Inet, promise.DNS}},
			"socket (ord=029) needs one of the promises 'inet', 'dns'"},
		{sandbox.Violation{Nr: 0x138, Syscall: "kcmp"}, "kcmp (ord=138), which no promise allows"},
		{sandbox.Violation{Nr: 0x3ff}, "unknown (ord=3ff), which no promise allows"},
	} {
		if got := describeViolation(c.v); got != c.want {
			t.Errorf("describeViolation(%+v) = %q, want %q", c.v, got, c.want)
		}
	}
}
