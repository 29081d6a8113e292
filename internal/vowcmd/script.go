package vowcmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/luahost"
	"github.com/vow-sandbox/vow/lualib"
)

// ScriptUsage is the part of vow's usage text about running Lua.
const ScriptUsage = `  vow SCRIPT.lua [ARGS...]     run a Lua script; arg[0] = SCRIPT.lua, arg[1..] = ARGS
  vow -e CODE [ARGS...]        run a chunk of Lua code
  vow [- [ARGS...]]            run a script read from standard input (when it is not a terminal)
  vow                          the interactive REPL (when standard input is a terminal)
`

// invocation is a parsed `vow [SCRIPT.lua | -e CODE | -] [ARGS...]`.
type invocation struct {
	// code is the -e chunk; nil otherwise.
	code *string
	// path is the script file; "" for -e and standard input.
	path string
	// args are arg[1..].
	args []string
}

// name is how messages refer to the chunk (its Lua chunk name).
func (inv *invocation) name() string {
	switch {
	case inv.code != nil:
		return "(command line)"
	case inv.path == "":
		return "stdin"
	}
	return inv.path
}

// arg0 is arg[0]: the script path, "-e" or "-".
func (inv *invocation) arg0() string {
	switch {
	case inv.code != nil:
		return "-e"
	case inv.path == "":
		return "-"
	}
	return inv.path
}

// usageError is a mistake on the command line (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// errREPL means no script was given and standard input is a terminal.
var errREPL = errors.New("REPL")

// parseScriptArgs parses the arguments of `vow` when they are not a
// subcommand. stdinIsTerminal tells whether a script may be read from
// standard input.
func parseScriptArgs(args []string, stdinIsTerminal bool) (*invocation, error) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
		if len(args) == 0 {
			return parseScriptArgs(nil, stdinIsTerminal)
		}
		return &invocation{path: args[0], args: args[1:]}, nil
	}
	switch {
	case len(args) == 0:
		if stdinIsTerminal {
			return nil, errREPL
		}
		return &invocation{}, nil
	case args[0] == "-e":
		if len(args) < 2 {
			return nil, &usageError{"-e needs the code to run: vow -e CODE [ARGS...]"}
		}
		code := args[1]
		return &invocation{code: &code, args: args[2:]}, nil
	case args[0] == "-":
		return &invocation{args: args[1:]}, nil
	case strings.HasPrefix(args[0], "-"):
		return nil, &usageError{fmt.Sprintf("unknown option %q (to run a script whose name starts with '-', write vow -- %s)", args[0], args[0])}
	case args[0] == "":
		return nil, &usageError{"empty script name"}
	}
	return &invocation{path: args[0], args: args[1:]}, nil
}

// Script runs `vow [SCRIPT.lua [ARGS...]]`, `vow -e CODE [ARGS...]` and
// `vow [-]` with the script on standard input, and returns the exit
// status of interfaces.md §1: 0 when the script ends normally, the value
// given to os.exit or unix.exit, 1 for an uncaught Lua error (printed as
// `vow: FILE:LINE: message` and a traceback), 2 for a usage error or a
// script that cannot be read. When standard input is a terminal and no
// script is given it runs the REPL instead (see [runREPL]).
//
// The script runs in a worker process: vow re-executes itself and waits,
// so that a pledge violation, which kills the worker with SIGSYS, is
// reported on stderr instead of ending vow silently; vow then dies of the
// same signal (see [superviseScript]). args are the command-line
// arguments after "vow"; standard input, output and error are the
// process's own.
func Script(args []string) int {
	if v, ok := os.LookupEnv(workerEnv); ok {
		os.Unsetenv(workerEnv)
		restoreGodebug()
		inv, err := parseScriptArgs(args, false)
		if err != nil {
			fmt.Fprintf(os.Stderr, "vow: bug: the script worker got arguments the parent accepted but it cannot parse: %v\n", err)
			return ExitUsage
		}
		return runScript(inv, workerStatusFD(v), os.Stdin, os.Stderr)
	}
	inv, err := parseScriptArgs(args, isTerminal(0))
	switch {
	case errors.Is(err, errREPL):
		return runREPL()
	case err != nil:
		fmt.Fprintf(os.Stderr, "vow: %v\n\nusage:\n%s", err, ScriptUsage)
		return ExitUsage
	}
	return superviseScript(inv, args)
}

// runScript loads and runs inv in this process and returns the exit
// status. status, when not -1, is the descriptor on which the worker tells
// its parent about pledges (see [superviseScript]).
func runScript(inv *invocation, status int, stdin io.Reader, stderr io.Writer) int {
	var src []byte
	var err error
	switch {
	case inv.code != nil:
		src = []byte(*inv.code)
	case inv.path == "":
		src, err = io.ReadAll(stdin)
		if err != nil {
			fmt.Fprintf(stderr, "vow: cannot read the script from standard input: %v\n", err)
			return ExitUsage
		}
	default:
		src, err = os.ReadFile(inv.path)
		if err != nil {
			fmt.Fprintf(stderr, "vow: cannot read the script %s: %v\n", inv.path, explainPathError(err))
			return ExitUsage
		}
	}
	cfg := luahost.Config{DefaultPledgeMode: lualib.PledgePenaltyKillThread}
	if status >= 0 {
		// The parent vow takes the first pledge's violations: it logs
		// them (PLEDGE_STDERR_LOGGING) and names the refused call when
		// the pledge kills. If vow dies, the worker must not wait for it.
		_ = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
		cfg.Supervised = true
		cfg.AfterPledge = func(st luahost.PledgeState) { reportPledge(status, st) }
	}
	L := luahost.NewState(cfg)
	defer L.Close()
	prog, _ := os.Executable()
	if len(os.Args) > 0 {
		prog = os.Args[0]
	}
	err = luahost.Run(L, &luahost.Script{
		Name:   inv.name(),
		Source: src,
		Arg0:   inv.arg0(),
		Args:   inv.args,
		Prog:   prog,
	})
	lualib.Flush(L)
	if err != nil {
		var le *luahost.Error
		if errors.As(err, &le) {
			io.WriteString(stderr, le.Report())
		} else {
			fmt.Fprintf(stderr, "vow: %v\n", err)
		}
		return ExitError
	}
	return ExitOK
}

// explainPathError drops the *PathError decoration (the path is in the
// message already) and keeps the reason.
func explainPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// isTerminal reports whether fd is a terminal.
func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// workerStatusFD parses the worker marker: the number of the status
// descriptor, or "-" for none. The descriptor is made close-on-exec so
// programs the script starts do not inherit it.
func workerStatusFD(v string) int {
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return -1
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
		return -1
	}
	return fd
}

// reportPledge tells the parent which promises are in force and whether
// a violation kills: one line "KILLS PROMISES\n" per pledge. It uses a
// bare write, which every pledge allows (the Go runtime needs it).
func reportPledge(fd int, st luahost.PledgeState) {
	kills := "0"
	if st.Kills {
		kills = "1"
	}
	line := fmt.Sprintf("%s %d %d %s\n", kills, int(st.Mode), st.Listener, st.Promises.String())
	if st.Listener >= 0 {
		// vow answers once it has taken the listener: until then the
		// listener must stay open here (an exec would close it).
		// Then this copy goes, so that refused calls fail (ENOSYS)
		// rather than wait if vow stops answering.
		defer func() {
			var b [1]byte
			for {
				if _, err := unix.Read(fd, b[:]); err != unix.EINTR {
					break
				}
			}
			unix.Close(st.Listener)
		}()
	}
	for {
		_, err := unix.Write(fd, []byte(line))
		if err != unix.EINTR {
			return
		}
	}
}
