// Package host runs Lua (gopher-lua) for Go programs, from a restricted
// interpreter in the program's own process up to untrusted plugins in
// sandboxed worker processes.
//
//   - [NewState] builds a *lua.LState with only the libraries asked for
//     (no io or os unless named), optionally bounded by a context (a
//     deadline, or an instruction budget from [LimitInstructions]) and
//     optionally pledging the whole process.
//   - [Run] runs a chunk once in a fresh sandboxed child process and
//     returns its results; [OpenVow] offers the same to Lua scripts as
//     vow.run (interfaces.md §2).
//   - [Pool] loads a plugin script into N sandboxed worker processes and
//     calls its global functions by name, with per-call deadlines,
//     cancellation, host functions the plugin may call back ([Func]),
//     and replacement of workers that crash or are killed.
//
// # The child process
//
// A sandboxed child is the program's own binary started again
// (/proc/self/exe): nothing else needs installing. The program makes
// that possible by calling [Init] first in main. The child reads its
// configuration from the host over a pipe, then, before the Lua code is
// even compiled:
//
//  1. sets RLIMIT_CORE to 0, RLIMIT_CPU for the CPU limit (SIGXCPU ends
//     it cleanly) and RLIMIT_DATA for the memory limit (on top of the
//     footprint of the started Go runtime; RLIMIT_AS cannot be used
//     because a Go process reserves about 1 GB of address space at
//     start), and gives the Go garbage collector a matching soft limit;
//  2. unveils the Policy's paths and commits (with nothing unveiled,
//     every path is hidden), using Landlock on all threads;
//  3. pledges the Policy's promises (default "stdio") with the penalty
//     EPERM, or SIGSYS with Policy.Kill.
//
// The child's environment is empty unless Env says otherwise, its stdin
// is /dev/null, it runs with GOMAXPROCS=1 (the interpreter is
// single-threaded), and it exits when the host goes away. The host enforces
// wall-clock limits by killing the child, and learns why a child died
// from its exit status, the signal, and the Go runtime's crash output,
// which the child sends on a separate pipe (runtime/debug.SetCrashOutput):
// a throw from the runtime's memory allocator there (or any crash inside
// the runtime under a memory limit) is KindMemory.
//
// Values cross the process boundary as nil, booleans, numbers (float64,
// exactly, NaN payloads and ±Inf included), binary-safe strings and
// tables of these, nested up to 200 levels; functions, userdata and
// tables that contain themselves are refused before anything is sent.
//
// # Violations
//
// By default a refused system call just fails with EPERM (or kills the
// child with Policy.Kill). With Policy.LogViolations, or an OnViolation
// callback in Config or RunOptions, the child pledges with a seccomp
// listener that a sandbox.Supervisor in the host serves: every refused
// call is named, with the promise that would allow it, before the
// penalty applies.
//
// # Requirements
//
// The unveil step restricts every thread of the child. On kernels whose
// Landlock is older than ABI 8 that needs syscall.AllThreadsSyscall,
// which the Go runtime refuses in binaries built with cgo: build with
// CGO_ENABLED=0, or point Executable at a small worker binary built that
// way (a main that calls host.Init). A child inherits the host's own
// restrictions: a host that pledged needs "stdio proc exec unveil", one
// that unveiled needs rx on the worker binary.
//
// # Costs
//
// Measured on the project's build machine (docs/benchmarks.md, section
// Plugins): starting a child and running "return 1" takes about 3 ms; a
// pool call with small arguments about 10 µs (median), as the caller
// polls the worker's pipe for up to 50 µs before it sleeps; an idle worker
// holds 6–7 MB of memory.
package host
