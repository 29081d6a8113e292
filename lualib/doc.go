// Package lualib is vow's redbean-compatible `unix` module for gopher-lua
// (Lua 5.1), specified function by function in shared/spec/lua-unix.md.
//
// # Loading
//
// [OpenUnix] builds the table, sets the global `unix`, makes
// `require "unix"` return the same table and installs the Lua 5.2-style
// global `assert` (so `assert(unix.open(path))` raises the unix.Errno
// itself). [Preload] only registers the module for `require`. Each call
// builds a fresh table; [Options] configures it.
//
// # Conventions
//
// A system call that fails returns exactly `nil, err`, where err is a
// unix.Errno userdata with the methods errno(), name(), doc(), call() and
// winerr() and a __tostring of the form "open() failed: No such file or
// directory". Functions that cannot fail return their value directly.
// Lua errors are raised only for mistakes in the calling code, in the
// standard form `bad argument #1 to 'open' (string expected, got table)`
// (an integer argument that is not integral says "number has no integer
// representation", one outside the kernel type's range "number out of
// range"). A Go panic inside a binding becomes a Lua error starting with
// "bug: unix.NAME: Go panic:" instead of killing the interpreter.
// Descriptors are plain integers owned by the script; unix.Dir objects are
// the only values that own one, and a Go finalizer closes it if the script
// forgets (gopher-lua never calls __gc).
//
// # Flags, modes and bits in Lua 5.1
//
// Lua 5.1 has no bitwise operators and reads 0644 as the decimal 644.
// Following lua-unix.md §1.5 the module therefore offers:
//
//   - unix.bor, unix.band, unix.bxor, unix.bnot, unix.btest, unix.lshift
//     and unix.rshift [vow], on 64-bit two's complement integers (so
//     AT_FDCWD = -100 works; rshift is a logical shift);
//   - tables as flag sets: every flags, mode, events or penalty parameter
//     also takes a sequence of integers that are OR-ed, as in
//     unix.open(p, {unix.O_WRONLY, unix.O_CREAT, unix.O_TRUNC}, "0600");
//   - octal strings for modes: open, mkdir, makedirs, chmod and umask
//     accept "0755" or "755"; anything else in the string raises
//     `bad argument #N to 'NAME' (invalid octal mode)`.
//
// # What is there
//
// Every tier 1 and tier 2 function of lua-unix.md §0 except the sandbox
// entry points (below), the unix.Errno, unix.Stat, unix.Dir and
// unix.Rusage objects, and the constants of §3 with their values taken
// from golang.org/x/sys/unix for the build's architecture (the few names
// x/sys lacks, marked † in the spec, use the spec's values; PLEDGE_* are
// pledge.md §4.1). From tier 3 the cheap ones are provided: gettid, lstat,
// setresuid, setresgid, chroot, sched_yield, sync, utimensat, futimens,
// major and minor. vow additions besides the bit helpers: tcgetwinsize
// (alias of tiocgwinsz), MSG_MORE, abstract AF_UNIX names (a path whose
// first byte is NUL; x/sys would also treat a leading '@' that way, vow
// does not).
//
// unix.fork always fails with ENOSYS; its doc() points to unix.spawn and
// vow.run, since a Go program cannot fork.
//
// # What is not there (yet)
//
// unix.pledge, unix.unveil and unix.spawn come from the sandbox layer
// through the hooks in [Options] (Pledge, Unveil, Spawn, and BeforeExec
// for execve's execpromises). A name whose hook is nil is simply absent
// from the table; there are no stubs. The bindings check and translate
// arguments (nil versus a string, the default mode, flag tables, spawn's
// option table into a [SpawnRequest]) and turn the hook's error into a
// unix.Errno: return a [syscall.Errno], an error wrapping one, or
// [NewErrno] to choose the text doc() shows. The vow command's
// interpreters (internal/luahost) set Pledge, Unveil and BeforeExec;
// Spawn is still unset there, so unix.spawn does not exist yet.
//
// Also absent, as the spec allows for tier 3: signal handling (sigaction,
// sigprocmask, sigsuspend, sigpending, setitimer, unix.Sigset), verynice,
// siocgifconf, setfsuid, setfsgid, syslog, statfs, fstatfs, gmtime,
// localtime; and never provided: mapshared and unix.Memory (§2.9).
// Without Lua signal handlers, raise and kill to the own process give a
// signal the kernel's default action (SIGUSR1 ends the process even
// though the Go runtime would ignore it); SIGPIPE stays ignored, so a
// broken pipe is EPIPE; EINTR caused by the Go runtime's own signals is
// retried inside nanosleep, poll, wait, accept, recv and send.
package lualib
