package vowcmd

import "github.com/vow-sandbox/vow/internal/pledgecmd"

// Exec runs `vow exec [pledge flags] PROG ARGS...`: exactly the pledge
// command (internal/pledgecmd), with "vow exec" in its messages. The vow
// binary must call sandbox.Init first thing in main.
func Exec(args []string) int {
	return pledgecmd.Run("vow exec", args)
}
