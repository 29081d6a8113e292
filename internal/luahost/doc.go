// Package luahost builds the Lua interpreters of the vow command: gopher-lua
// with the standard libraries and the unix module (package lualib), whose
// sandbox entry points it wires to package sandbox:
//
//   - unix.pledge → sandbox.Pledge, restricting this process (every
//     thread); the promise string, execpromises and mode are checked first so
//     that a mistake comes back as nil, EINVAL with a doc() that names it
//     ("unknown promise 'stdoi' (did you mean 'stdio'?)"). unix.pledge() and
//     unix.pledge(nil, nil) are the support probe. The default mode is
//     [Config.DefaultPledgeMode]: for scripts a violation kills the whole
//     process with SIGSYS (a Go program cannot lose one thread).
//   - unix.unveil → sandbox.Unveil to stage, unveil(nil, nil) →
//     sandbox.UnveilCommit, unveil("", nil) → true, sandbox.LandlockABI().
//   - unix.execve with execpromises → the process narrows itself to
//     execpromises ∪ {exec} right before the exec, as Cosmopolitan does.
//
// [Run] runs a script as the main chunk, with the arg table, and reports
// an uncaught error as an [*Error] in the `FILE:LINE: message` form of
// interfaces.md §1, with gopher-lua's traceback.
//
// With PLEDGE_STDERR_LOGGING an in-process pledge cannot report violations
// itself (pledge.md §9.5): sandbox.Pledge asks the kernel to log them to
// the audit log instead. Naming the refused call on stderr needs the
// violation-reporting supervisor of the pledge command.
package luahost
