package promise_test

import (
	"fmt"

	"github.com/vow-sandbox/vow/sandbox/promise"
)

func ExampleParse() {
	set, err := promise.Parse("STDIO rpath  inet")
	fmt.Println(set, err)
	_, err = promise.Parse("stdio rpat")
	fmt.Println(err)
	_, err = promise.Parse("getpw")
	fmt.Println(err)
	// Output:
	// stdio rpath inet <nil>
	// unknown promise "rpat" (did you mean "rpath"?)
	// unknown promise "getpw" (OpenBSD only; on Linux use "rpath" and unveil /etc/passwd and /etc/group with "r")
}

func ExampleGranting() {
	fmt.Println(promise.Granting("socket"))
	fmt.Println(promise.Label("rt_sigaction"))
	// Output:
	// [inet unix dns anet]
	// sigaction
}

func ExampleEntries() {
	for _, e := range promise.Entries(promise.Tty) {
		fmt.Println(e.Syscall, e.Rule)
	}
	// Output:
	// ioctl arg1 in {0x5401,0x5402,0x5403,0x5404,0x5409,0x540a,0x540b,0x540f,0x5410,0x5413,0x5414,0x5427}
}
