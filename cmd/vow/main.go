// Command vow is the Lua host, the REPL and the tool set of the vow
// sandbox. See README.md.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/vow-sandbox/vow/host"
	"github.com/vow-sandbox/vow/internal/vowcmd"
	"github.com/vow-sandbox/vow/sandbox"
)

func main() {
	sandbox.Init() // a re-executed sandbox launcher becomes its program here
	host.Init()    // a vow.run child runs its Lua here and never returns
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "bpf":
			return vowcmd.Bpf(args[1:], os.Stdout, os.Stderr)
		case "version":
			fmt.Println("vow", version())
			return vowcmd.ExitOK
		case "-h", "--help", "help":
			fmt.Print(usage)
			return vowcmd.ExitOK
		case "exec":
			return vowcmd.Exec(args[1:])
		case "trace":
			fmt.Fprintf(os.Stderr, "vow: %q is not available yet in this build\n", args[0])
			return vowcmd.ExitUsage
		}
	}
	return vowcmd.Script(args)
}

const usage = "usage:\n" + vowcmd.ScriptUsage + `  vow bpf [-p PROMISES] [-x EXECPROMISES] [-k] [-q] [--raw]   show the seccomp filter of a pledge
  vow version
`

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
