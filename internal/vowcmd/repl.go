package vowcmd

import (
	"github.com/vow-sandbox/vow/internal/luahost"
	"github.com/vow-sandbox/vow/internal/repl"
	"github.com/vow-sandbox/vow/lualib"
)

// runREPL runs the interactive prompt: `vow` with no arguments when
// standard input is a terminal (interfaces.md §1). It runs in this
// process, on the interpreter scripts get, except that unix.pledge
// defaults to PLEDGE_PENALTY_RETURN_EPERM (interfaces.md §2), so a call a
// pledge forbids fails instead of killing the session. History is kept
// in ~/.vow_history.
func runREPL() int {
	L := luahost.NewState(luahost.Config{DefaultPledgeMode: lualib.PledgePenaltyReturnEPERM})
	defer L.Close()
	status := repl.Run(L, repl.Options{HistoryFile: repl.DefaultHistoryFile()})
	lualib.Flush(L)
	return status
}
