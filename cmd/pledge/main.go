// Command pledge runs a program restricted by OpenBSD-style promises and
// unveiled paths: a drop-in replacement for Cosmopolitan's pledge.com.
//
//	pledge [-hVqknDN] [-g GID] [-u UID] [-c PATH] [-v [PERM:]PATH]...
//	       [-C SECS] [-M BYTES] [-O FILES] [-P PROCS] [-F BYTES]
//	       [-T pledge|-T unveil] [-p PROMISES] PROG ARGS...
//
// See README.md and internal/pledgecmd.
package main

import (
	"os"

	"github.com/vow-sandbox/vow/internal/pledgecmd"
	"github.com/vow-sandbox/vow/sandbox"
)

func main() {
	sandbox.Init()
	os.Exit(pledgecmd.Run("pledge", os.Args[1:]))
}
