package host

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// Kind classifies how sandboxed code failed. The first five are the
// err.kind values of vow.run (interfaces.md §2).
type Kind string

// The kinds of [Error].
const (
	// KindError: the code raised a Lua error (Message, Value, Traceback),
	// did not compile, or a plugin function does not exist.
	KindError Kind = "error"
	// KindTimeout: the wall-clock limit (RunOptions.Timeout, a call's
	// deadline or Config.CallTimeout) or the CPU limit (CPU) ran out.
	KindTimeout Kind = "timeout"
	// KindMemory: the child ran out of the memory it was given (Memory).
	KindMemory Kind = "memory"
	// KindKilled: the child died of a signal (Signal), e.g. SIGSYS for a
	// violation under Policy.Kill, or SIGKILL from outside.
	KindKilled Kind = "killed"
	// KindExit: the code ended its process (os.exit, unix.exit) with
	// Status before returning.
	KindExit Kind = "exit"
	// KindCanceled: the context of the call was canceled (Go API only);
	// the error wraps context.Canceled.
	KindCanceled Kind = "canceled"
)

// Error is the failure of sandboxed Lua code: what [Run] and [Pool.Call]
// return when the code, not the caller, went wrong. Use errors.As to get
// it; errors.Is(err, context.DeadlineExceeded) and context.Canceled work
// for deadlines and cancellation.
type Error struct {
	// Kind says what happened.
	Kind Kind
	// Message describes it. For KindError it is the Lua error message,
	// with the position of the code that raised it ("plugin.lua:3:
	// boom"), or tostring of the raised value when that is not a string.
	Message string
	// Value is the raised Lua value for KindError when it can cross the
	// process boundary (a string, a number, a table of these, …), as
	// Go data (see [Pool.Call]).
	Value any
	// Traceback is the Lua stack at the error, when known.
	Traceback string
	// Signal is the signal that killed the child (KindKilled).
	Signal syscall.Signal
	// Status is the exit status (KindExit).
	Status int
	// Func is the plugin function of a pool call, "" for Run.
	Func string
	// Crash is what the Go runtime of the child printed when it crashed
	// (out of memory, a fatal error), shortened; "" otherwise.
	Crash string

	cause    error  // context error, for Unwrap
	rawValue []byte // the encoded error value, for vow.run
}

// Error returns a one-line description: what ran, the kind and the
// message.
func (e *Error) Error() string {
	what := "sandboxed code"
	if e.Func != "" {
		what = fmt.Sprintf("plugin function %q", e.Func)
	}
	return fmt.Sprintf("%s: %s: %s", what, e.Kind, e.Message)
}

// Unwrap returns the context error of a timeout or cancellation.
func (e *Error) Unwrap() error { return e.cause }

// ErrClosed is returned by calls on a closed [Pool].
var ErrClosed = errors.New("host: the pool is closed")

// signalName returns the kernel's name for sig, e.g. "SIGKILL".
func signalName(sig syscall.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return n
	}
	return fmt.Sprintf("signal %d", int(sig))
}
