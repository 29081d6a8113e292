// Package repl is vow's interactive Lua prompt: `vow` with no arguments
// on a terminal (interfaces.md §1).
//
// [Run] takes a prepared *lua.LState (standard libraries and the unix
// module opened) and reads, evaluates and prints until Ctrl-D:
//
//   - line editing with github.com/chzyer/readline, and a history file
//     (~/.vow_history, mode 0600, trimmed to [DefaultHistoryLimit] lines)
//     opened before anything runs, so it keeps being written after a
//     pledge or unveil;
//   - Lua 5.3-style evaluation: "=expr" and bare expressions print their
//     values, an unfinished chunk continues on a ">> " prompt, errors are
//     shown and the session goes on;
//   - values printed readably: strings quoted, tables nested with sorted
//     keys, cycles marked and big tables cut, unix.Errno with name and doc;
//   - Tab completion of globals, fields and methods, and of promise names
//     inside unix.pledge("...") strings;
//   - a prompt that shows what is in force (vow[stdio rpath +unveil]> ),
//     and the commands .help, .promises and .exit.
//
// unix.pledge typed at the prompt defaults to PLEDGE_PENALTY_RETURN_EPERM
// (interfaces.md §2), so experimenting never kills the session.
//
// # After a pledge
//
// What the REPL itself needs after unix.pledge("stdio"): reading and
// writing the terminal and the already open history file (stdio), and
// signals (allowed to the Go runtime). Line editing also needs the
// terminal ioctls TCGETS/TCSETS of the "tty" promise; without it the
// terminal stays in its normal (cooked) mode, and the REPL says so and
// goes on reading whole lines: the kernel's own editing (Backspace,
// Ctrl-U, Ctrl-W), Ctrl-C, Ctrl-D and the history file keep working,
// Tab completion and arrow-key history do not.
package repl
