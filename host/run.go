package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/vow-sandbox/vow/host/internal/wire"
	"github.com/vow-sandbox/vow/sandbox"
)

// RunOptions configures [Run]. The zero value runs the code with the
// promise "stdio", nothing unveiled, no limits, the safe libraries and
// this process's stdout and stderr.
type RunOptions struct {
	// Policy is what the code may do (promises, unveil, penalty).
	Policy
	// Timeout is the wall-clock limit; the host kills the child when it
	// passes (KindTimeout). 0: none (the context can still end it).
	Timeout time.Duration
	// Memory is how many bytes the code may allocate on top of the
	// child's start-up footprint (about 40 MB of Go runtime address
	// space), enforced by the kernel with RLIMIT_DATA; beyond it the
	// child dies with KindMemory. 0: no limit.
	Memory int64
	// CPU is the CPU time limit, rounded up to whole seconds
	// (RLIMIT_CPU); beyond it the child ends with KindTimeout. 0: none.
	CPU time.Duration
	// Libraries to open in the child's interpreter; 0 means LibSafe.
	Libraries Library
	// Stdout and Stderr receive the child's output. nil: this process's
	// os.Stdout and os.Stderr. An *os.File is handed to the child
	// directly; any other writer is fed through a pipe.
	Stdout, Stderr io.Writer
	// Env is the child's environment; nil means an empty one, so that
	// the code cannot read the host's secrets with os.getenv.
	Env []string
	// Executable is the binary to start as the child; it must call
	// [Init] first in main. "" means this program (/proc/self/exe).
	Executable string
	// Name is the chunk name used in error messages; "" means "run".
	Name string
	// OnViolation, when set, is called with each system call the child's
	// promises refuse (from another goroutine), before the penalty; see
	// Policy.LogViolations for the cost.
	OnViolation func(sandbox.Violation)
	// MaxMessage limits the size of the encoded arguments and results in
	// bytes; 0 means 64 MiB.
	MaxMessage int

	timeoutName string // how messages name Timeout
}

// Run runs the Lua chunk code in a fresh interpreter in a sandboxed child
// process and returns what the chunk returns; args are its ... values.
// The child sets its limits, unveils and pledges itself before the code
// is even compiled, and ends after answering.
//
// Arguments and results are nil, booleans, numbers, strings and tables
// of these (see [Pool.Call] for the Go types). A failure of the code is
// an [*Error]; a mistake of the caller (an argument that cannot be sent,
// a bad promise, an unveil path that does not exist) or a child that
// cannot be started is another error.
func Run(ctx context.Context, code string, opts *RunOptions, args ...any) ([]any, error) {
	if opts == nil {
		opts = &RunOptions{}
	}
	var w wire.Buffer
	w.Limit = maxMessage(opts.MaxMessage)
	w.Reset(0)
	w.Uvarint(uint64(len(args)))
	for i, a := range args {
		if err := wire.EncodeGo(&w, a); err != nil {
			return nil, argError(i+1, err, w.Limit)
		}
	}
	res, err := runChild(ctx, code, opts, w.Bytes())
	if err != nil {
		return nil, err
	}
	r := wire.NewReader(res)
	n := r.Count(1)
	out := make([]any, n)
	for i := range out {
		out[i] = wire.DecodeGo(r)
	}
	if r.Err() != nil {
		return nil, fmt.Errorf("host: run: the child's results are malformed: %w", r.Err())
	}
	return out, nil
}

// argError explains an argument that cannot be sent.
func argError(i int, err error, limit int) error {
	if errors.Is(err, wire.ErrTooLarge) {
		return fmt.Errorf("host: the arguments are larger than the limit of %d bytes (MaxMessage)", limit)
	}
	return fmt.Errorf("host: argument #%d: %w", i, err)
}

func maxMessage(n int) int {
	if n <= 0 {
		return wire.MaxFrame
	}
	return n
}

// runChild runs code with the encoded argument list args (payload after
// the type byte) and returns the encoded result list.
func runChild(ctx context.Context, code string, opts *RunOptions, args []byte) ([]byte, error) {
	if err := opts.Policy.check(); err != nil {
		return nil, err
	}
	if opts.Memory < 0 || opts.CPU < 0 || opts.Timeout < 0 {
		return nil, errors.New("host: run: Memory, CPU and Timeout must not be negative")
	}
	spec := &spawnSpec{
		exe: opts.Executable, env: opts.Env,
		stdout: opts.Stdout, stderr: opts.Stderr,
		maxFrame: maxMessage(opts.MaxMessage),
		memory:   opts.Memory, cpu: opts.CPU,
	}
	if spec.stdout == nil {
		spec.stdout = os.Stdout
	}
	if spec.stderr == nil {
		spec.stderr = os.Stderr
	}
	// Two copiers, and the supervisor writing violations, may share a
	// writer.
	spec.stdout, spec.stderr = lockWriters(spec.stdout, spec.stderr)
	var err error
	if spec.supervise, err = superviseConfig(&opts.Policy, spec.stderr, opts.OnViolation); err != nil {
		return nil, err
	}
	name := opts.Name
	if name == "" {
		name = "run"
	}
	init := &initMsg{
		mode: modeRun, name: name, code: code, args: args,
		promises: opts.promises(), penalty: uint64(opts.mode()), unveil: opts.Unveil,
		memory: uint64(opts.Memory), cpu: cpuSeconds(opts.CPU), libs: uint64(opts.Libraries),
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxError(err, "")
	}
	p, err := startProc(spec, init, nil)
	if err != nil {
		return nil, err
	}
	defer p.close()
	stop := context.AfterFunc(ctx, func() {
		if ctx.Err() == context.DeadlineExceeded {
			p.kill(reasonTimeout)
		} else {
			p.kill(reasonCanceled)
		}
	})
	defer stop()
	if opts.Timeout > 0 {
		t := time.AfterFunc(opts.Timeout, func() { p.kill(reasonTimeout) })
		defer t.Stop()
	}
	frame, rerr := p.readAnswer()
	<-p.exited
	if rerr != nil {
		if err := p.notStarted(opts.Executable); err != nil {
			return nil, err
		}
		tn := opts.timeoutName
		if tn == "" {
			tn = "RunOptions.Timeout"
		}
		e := p.failure(opts.Timeout, tn)
		if p.killReason() == reasonTimeout && opts.Timeout == 0 {
			e.Message = "the context's deadline passed; the child was killed"
		}
		if p.killReason() != "" && ctx.Err() != nil {
			e.cause = ctx.Err()
		}
		return nil, e
	}
	res, err := parseResult(frame)
	if err != nil {
		return nil, fmt.Errorf("host: run: %w", err)
	}
	switch res.status {
	case statusOK:
		return res.rest, nil
	case statusSetup:
		return nil, setupError(res.msg)
	case statusError:
		return nil, res.luaError("")
	}
	return nil, fmt.Errorf("host: run: unexpected result status %d", res.status)
}

// setupError explains a child that could not restrict itself.
func setupError(msg string) error {
	hint := ""
	if _, pledged := sandbox.Pledged(); pledged {
		hint = " (this process is pledged, and its children inherit the pledge: " +
			"to start sandboxed children it needs the promises \"stdio proc exec unveil\")"
	}
	return fmt.Errorf("host: setting up the sandbox in the child failed: %s%s", msg, hint)
}

// ctxError is the *Error for a call that ended because of its context.
func ctxError(err error, fn string) *Error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Kind: KindTimeout, Message: "the context's deadline passed", Func: fn, cause: err}
	}
	return &Error{Kind: KindCanceled, Message: "the context was canceled", Func: fn, cause: err}
}

// result is a msgResult.
type result struct {
	id     uint64
	status byte
	msg    string // statusError and the others but statusOK
	trace  string // statusError
	rest   []byte // statusOK: the value list; statusError: the error value
}

func parseResult(p []byte) (*result, error) {
	r := wire.NewReader(p)
	if t := r.Byte(); t != msgResult {
		return nil, fmt.Errorf("the child sent a message of type %q where a result was due", t)
	}
	res := &result{id: r.Uvarint(), status: r.Byte()}
	switch res.status {
	case statusOK:
	case statusError:
		res.msg, res.trace = r.String(), r.String()
	default:
		res.msg = r.String()
	}
	if r.Err() != nil {
		return nil, fmt.Errorf("the child's result is malformed: %w", r.Err())
	}
	res.rest = p[len(p)-r.Left():]
	return res, nil
}

// luaError converts a statusError result to an *Error, decoding the
// error value as Go data.
func (res *result) luaError(fn string) *Error {
	e := &Error{Kind: KindError, Message: res.msg, Traceback: res.trace, Func: fn}
	e.rawValue = append([]byte(nil), res.rest...)
	if len(res.rest) > 0 {
		r := wire.NewReader(res.rest)
		if v := wire.DecodeGo(r); r.Err() == nil {
			e.Value = v
		}
	}
	return e
}
