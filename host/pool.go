package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vow-sandbox/vow/host/internal/wire"
	"github.com/vow-sandbox/vow/sandbox"
)

// Func is a host function: Go code a plugin may call as host.NAME(...)
// while the host is calling the plugin. It runs in the host process, in
// the goroutine of the [Pool.Call] that the plugin is serving, with that
// call's context; it is the only way a pledged plugin reaches what its
// promises forbid, so it should check its arguments like any other input
// from outside. args and results follow the conversions of [Pool.Call].
// A returned error, or a panic, is raised as a Lua error in the plugin
// ("host.NAME: message").
type Func func(ctx context.Context, args []any) ([]any, error)

// Config configures a [Pool]. Script is required; everything else has a
// default.
type Config struct {
	// Script is the plugin: Lua source whose main chunk defines global
	// functions. Every worker runs it once when it starts (and again
	// when a replacement starts), after restricting itself.
	Script string
	// Name is the chunk name used in error messages, e.g. the file
	// name; "" means "plugin".
	Name string
	// Workers is the number of worker processes; 0 means 1.
	Workers int

	// Policy is what the plugin may do (promises, unveil, penalty).
	Policy
	// Memory is how many bytes a worker may allocate on top of its
	// start-up footprint (RLIMIT_DATA; see RunOptions.Memory). A worker
	// that runs out dies; its call fails with KindMemory and it is
	// replaced. 0: no limit.
	Memory int64
	// CPU is the CPU time a worker process may use in its whole life,
	// rounded up to seconds (RLIMIT_CPU). The call that exhausts it fails
	// with KindTimeout and the worker is replaced. 0: no limit.
	CPU time.Duration

	// CallTimeout is the default deadline of a call whose context has
	// none or a later one; 0: none.
	CallTimeout time.Duration
	// KillGrace is how long a worker may take to stop a call whose
	// context ended (the interpreter checks for that before every
	// instruction, but a long Go function such as string.rep does not)
	// before it is killed and replaced; 0 means 200ms. The call itself
	// returns at once.
	KillGrace time.Duration
	// StartTimeout limits the start of a worker, the plugin's main chunk
	// included; 0 means 10s.
	StartTimeout time.Duration

	// Libraries to open in the workers' interpreters; 0 means LibSafe.
	Libraries Library
	// Funcs are the host functions plugins may call, as host.NAME(...).
	// Names must be Lua identifiers.
	Funcs map[string]Func
	// OnViolation, when set, is called with each system call a worker's
	// promises refuse (Violation.PID tells which worker), from another
	// goroutine, before the penalty; see Policy.LogViolations for the
	// cost.
	OnViolation func(sandbox.Violation)

	// Stdout and Stderr receive the workers' output (print, io.write);
	// nil means this process's os.Stderr for both, so that a plugin can
	// never write into the host's stdout. An *os.File is handed to the
	// workers directly; any other writer is fed through a pipe (and
	// written to by one goroutine per worker at a time... use one that
	// is safe for concurrent use).
	Stdout, Stderr io.Writer
	// Env is the workers' environment; nil means an empty one.
	Env []string
	// Executable is the binary started as a worker; it must call [Init]
	// first in main. "" means this program.
	Executable string
	// MaxMessage limits the encoded arguments and results of one call
	// in bytes; 0 means 64 MiB.
	MaxMessage int
}

// Pool runs a plugin script in sandboxed worker processes and calls its
// functions. Each worker is this program's binary (or
// Config.Executable) started again: it sets its limits, unveils and
// pledges itself, and only then loads the plugin. A worker serves one
// call at a time; calls beyond the number of workers wait for a free
// one.
//
// A worker that crashes, runs out of memory or CPU, is killed, or does
// not stop a canceled call in time fails the call it was running and is
// replaced by a fresh one; a plugin therefore keeps no state across such
// a restart. A Pool is safe for concurrent use.
type Pool struct {
	cfg   Config
	spec  *spawnSpec
	init  initMsg
	slots chan *proc // idle workers, and nil for a slot without one
	done  chan struct{}

	mu     sync.Mutex
	closed bool
	all    map[*proc]struct{} // started and not yet discarded
	wg     sync.WaitGroup     // reapers, drains and restarts

	nextID   atomic.Uint64
	restarts atomic.Int64
	argBufs  sync.Pool
}

// NewPool validates cfg, starts the workers and waits until every one
// has loaded the plugin. An error in the script (syntax, or a Lua error
// in its main chunk) or in the policy is returned here.
func NewPool(cfg Config) (*Pool, error) {
	if cfg.Workers < 0 {
		return nil, fmt.Errorf("host: Config.Workers is %d; use 1 or more (0 means 1)", cfg.Workers)
	}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	if cfg.Name == "" {
		cfg.Name = "plugin"
	}
	if cfg.KillGrace <= 0 {
		cfg.KillGrace = 200 * time.Millisecond
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 10 * time.Second
	}
	if cfg.Memory < 0 || cfg.CPU < 0 || cfg.CallTimeout < 0 {
		return nil, errors.New("host: Config.Memory, CPU and CallTimeout must not be negative")
	}
	if err := cfg.Policy.check(); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(cfg.Funcs))
	for name, f := range cfg.Funcs {
		if !isLuaName(name) {
			return nil, fmt.Errorf("host: host function name %q is not a Lua identifier (letters, digits and _, not starting with a digit)", name)
		}
		if f == nil {
			return nil, fmt.Errorf("host: host function %q is nil", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	p := &Pool{
		cfg: cfg,
		spec: &spawnSpec{
			exe: cfg.Executable, env: cfg.Env,
			stdout: cfg.Stdout, stderr: cfg.Stderr,
			maxFrame: maxMessage(cfg.MaxMessage),
			memory:   cfg.Memory, cpu: cfg.CPU,
		},
		init: initMsg{
			mode: modePlugin, name: cfg.Name, code: cfg.Script,
			promises: cfg.promises(), penalty: uint64(cfg.mode()), unveil: cfg.Unveil,
			memory: uint64(cfg.Memory), cpu: cpuSeconds(cfg.CPU), libs: uint64(cfg.Libraries),
			funcs: names,
		},
		slots: make(chan *proc, cfg.Workers),
		done:  make(chan struct{}),
		all:   make(map[*proc]struct{}),
	}
	if p.spec.stdout == nil {
		p.spec.stdout = os.Stderr
	}
	if p.spec.stderr == nil {
		p.spec.stderr = os.Stderr
	}
	p.spec.stdout, p.spec.stderr = lockWriters(p.spec.stdout, p.spec.stderr)
	var err error
	if p.spec.supervise, err = superviseConfig(&cfg.Policy, p.spec.stderr, cfg.OnViolation); err != nil {
		return nil, err
	}

	errs := make(chan error, cfg.Workers)
	for i := 0; i < cfg.Workers; i++ {
		go func() {
			w, err := p.start()
			if err == nil {
				p.slots <- w
			}
			errs <- err
		}()
	}
	var first error
	for i := 0; i < cfg.Workers; i++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		p.Close()
		return nil, first
	}
	return p, nil
}

func isLuaName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	switch s {
	case "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "if", "in",
		"local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while":
		return false
	}
	return true
}

// lockWriters makes writers that are not files safe for concurrent use
// by the output copiers of workers and the violation supervisor; like
// exec.Cmd, it gives one lock to stdout and stderr when they are the same
// writer.
func lockWriters(stdout, stderr io.Writer) (io.Writer, io.Writer) {
	lock := func(w io.Writer) io.Writer {
		if _, ok := w.(*os.File); ok {
			return w
		}
		return &lockedWriter{w: w}
	}
	lo := lock(stdout)
	if sameWriter(stdout, stderr) {
		return lo, lo
	}
	return lo, lock(stderr)
}

// sameWriter compares two writers, false when they cannot be compared.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// start starts a worker and waits until it has loaded the plugin.
func (p *Pool) start() (*proc, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	p.wg.Add(1) // for the reaper
	p.mu.Unlock()
	w, err := startProc(p.spec, &p.init, p.wg.Done)
	if err != nil {
		p.wg.Done()
		return nil, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		w.kill(reasonClosed)
		<-w.exited
		w.close()
		return nil, ErrClosed
	}
	p.all[w] = struct{}{}
	p.mu.Unlock()

	t := time.AfterFunc(p.cfg.StartTimeout, func() { w.kill(reasonTimeout) })
	f, err := w.readAnswer()
	t.Stop()
	var res *result
	if err == nil {
		res, err = parseResult(f)
	}
	if err == nil && res.status == statusOK {
		return w, nil
	}
	w.kill(reasonBroken)
	<-w.exited
	p.discard(w)
	switch {
	case err != nil:
		if w.killReason() == reasonClosed {
			return nil, ErrClosed
		}
		if err := w.notStarted(p.cfg.Executable); err != nil {
			return nil, err
		}
		e := w.failure(p.cfg.StartTimeout, "Config.StartTimeout")
		return nil, fmt.Errorf("host: starting a plugin worker: %w", e)
	case res.status == statusSetup:
		return nil, fmt.Errorf("host: a plugin worker: %w", setupError(res.msg))
	case res.status == statusError:
		return nil, fmt.Errorf("host: loading the plugin: %s", res.msg)
	}
	return nil, fmt.Errorf("host: starting a plugin worker: unexpected result status %d", res.status)
}

// discard forgets a worker that has been reaped and closes its pipes.
func (p *Pool) discard(w *proc) {
	p.mu.Lock()
	delete(p.all, w)
	p.mu.Unlock()
	w.close()
}

// replace discards a broken worker (killing it first if needed) and
// starts a replacement in the background.
func (p *Pool) replace(w *proc) {
	w.kill(reasonBroken)
	<-w.exited
	p.discard(w)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.restarts.Add(1)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		// A start can fail for passing reasons (the new worker killed
		// from outside, a fork refused under load): try a few times.
		// Then leave the slot empty: the next call that takes it starts
		// a worker itself and reports the error if that fails too.
		var nw *proc
		for attempt := 1; attempt <= 3; attempt++ {
			var err error
			if nw, err = p.start(); err == nil || errors.Is(err, ErrClosed) {
				break
			}
			select {
			case <-p.done:
			case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
			}
		}
		p.release(nw)
	}()
}

// release returns a worker (or an empty slot, nil) to the pool.
func (p *Pool) release(w *proc) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed && w != nil {
		w.kill(reasonClosed)
		<-w.exited
		p.discard(w)
		w = nil
	}
	p.slots <- w // never blocks: every worker or empty slot has its place
}

// acquire takes an idle worker, starting one in an empty slot or in
// place of one that died while idle.
func (p *Pool) acquire(ctx context.Context) (*proc, error) {
	select {
	case <-p.done:
		return nil, ErrClosed
	default:
	}
	select {
	case w := <-p.slots:
		if w != nil && !w.alive() {
			// Died while idle (killed from outside): nothing was lost.
			p.discard(w)
			p.restarts.Add(1)
			w = nil
		}
		if w == nil {
			nw, err := p.start()
			if err != nil {
				p.slots <- nil
				return nil, err
			}
			w = nw
		}
		return w, nil
	case <-ctx.Done():
		return nil, ctxError(ctx.Err(), "")
	case <-p.done:
		return nil, ErrClosed
	}
}

// Call calls the plugin's global function name with args in a free
// worker and returns its results.
//
// Go values become Lua values as follows: nil → nil; bool → boolean;
// every integer and float type → number (integers beyond ±2^53, which a
// Lua number cannot hold exactly, are refused); string and []byte →
// string; slices and arrays → sequences; maps with string, number or
// boolean keys → tables; pointers and interfaces → what they point to.
// Results come back as nil, bool, float64, string, and for tables []any
// (a non-empty sequence 1..n), map[string]any (only string keys, or
// empty) or map[any]any (keys bool, float64, string). Values that cannot
// cross (functions, structs, cycles) are an error before anything is
// sent.
//
// The call ends when ctx does (or after Config.CallTimeout): Call then
// returns at once with an [*Error] of KindTimeout or KindCanceled that
// wraps the context's error, and the worker is told to stop (and is
// killed and replaced if it does not within Config.KillGrace). Errors of
// the plugin are [*Error] values; a worker that dies during the call
// gives KindKilled, KindMemory, KindTimeout (CPU) or KindExit, and is
// replaced. Every call returns either results or an error.
func (p *Pool) Call(ctx context.Context, name string, args ...any) ([]any, error) {
	if !isLuaName(name) {
		return nil, fmt.Errorf("host: call: %q is not the name of a global Lua function", name)
	}
	ab, _ := p.argBufs.Get().(*wire.Buffer)
	if ab == nil {
		ab = &wire.Buffer{}
	}
	defer p.argBufs.Put(ab)
	ab.Limit = p.spec.maxFrame - len(name) - 32
	ab.Reset(0)
	ab.Uvarint(uint64(len(args)))
	for i, a := range args {
		if err := wire.EncodeGo(ab, a); err != nil {
			return nil, argError(i+1, err, ab.Limit)
		}
	}
	var own context.CancelFunc
	if p.cfg.CallTimeout > 0 {
		if d, ok := ctx.Deadline(); !ok || time.Until(d) > p.cfg.CallTimeout {
			ctx, own = context.WithTimeout(ctx, p.cfg.CallTimeout)
			defer own()
		}
	}
	for {
		w, err := p.acquire(ctx)
		if err != nil {
			if e, ok := err.(*Error); ok {
				e.Func = name
			}
			return nil, err
		}
		out, delivered, err := p.call(ctx, w, name, ab.Bytes(), own != nil)
		if delivered {
			return out, err
		}
		// The worker was gone before it got the call: try another.
	}
}

// call runs one call on w and disposes of w: back to the pool, drained
// in the background, or replaced. delivered is false when w died before
// the call could be sent, so that it can be tried elsewhere.
func (p *Pool) call(ctx context.Context, w *proc, name string, args []byte, ownTimeout bool) (out []any, delivered bool, err error) {
	id := p.nextID.Add(1)
	w.w.Reset(msgCall)
	w.w.Uvarint(id)
	w.w.String(name)
	var timeout time.Duration
	if d, ok := ctx.Deadline(); ok {
		if timeout = time.Until(d); timeout <= 0 {
			p.release(w)
			return nil, true, p.ctxError(ctx, name, ownTimeout)
		}
	}
	w.w.Uvarint(uint64(timeout))
	w.w.Raw(args)
	unwatch := w.watch(ctx)
	if err := w.send(); err != nil {
		unwatch()
		if ctx.Err() != nil {
			// The write was interrupted: part of the frame may be sent.
			p.replace(w)
			return nil, true, p.ctxError(ctx, name, ownTimeout)
		}
		p.replace(w)
		return nil, false, nil
	}
	for {
		f, clean, err := w.readFrame()
		if err != nil {
			unwatch()
			if ctx.Err() != nil && errors.Is(err, os.ErrDeadlineExceeded) {
				if clean {
					p.abandon(w, id)
				} else {
					p.replace(w)
				}
				return nil, true, p.ctxError(ctx, name, ownTimeout)
			}
			if errors.Is(err, wire.ErrTooLarge) {
				w.kill(reasonBroken)
				p.replace(w)
				return nil, true, &Error{Kind: KindError, Func: name, Message: fmt.Sprintf("the results are too large: %v; the worker was replaced", err)}
			}
			// The worker died (or broke the protocol).
			w.kill(reasonBroken)
			<-w.exited
			e := w.failure(0, "")
			e.Func = name
			if w.killReason() == reasonClosed {
				e.Kind, e.Message, e.cause = KindCanceled, "the pool was closed during the call", ErrClosed
			}
			p.replace(w)
			return nil, true, e
		}
		switch f[0] {
		case msgHostCall:
			if err := p.hostCall(ctx, w, f); err != nil {
				// Sending the reply failed: the next read tells why.
				continue
			}
		case msgResult:
			unwatch()
			res, err := parseResult(f)
			if err != nil || res.id != id {
				p.replace(w)
				if err == nil {
					err = fmt.Errorf("the worker answered call %d instead of %d", res.id, id)
				}
				return nil, true, &Error{Kind: KindError, Func: name, Message: fmt.Sprintf("bug: %v; the worker was replaced", err)}
			}
			switch res.status {
			case statusOK:
				r := wire.NewReader(res.rest)
				n := r.Count(1)
				out = make([]any, n)
				for i := range out {
					out[i] = wire.DecodeGo(r)
				}
				if r.Err() != nil {
					p.replace(w)
					return nil, true, &Error{Kind: KindError, Func: name, Message: fmt.Sprintf("the worker's results are malformed: %v; the worker was replaced", r.Err())}
				}
				p.release(w)
				return out, true, nil
			case statusError:
				p.release(w)
				return nil, true, res.luaError(name)
			case statusTimeout, statusCanceled:
				// The worker saw the deadline first.
				p.release(w)
				return nil, true, p.ctxError(ctx, name, ownTimeout)
			}
			p.replace(w)
			return nil, true, &Error{Kind: KindError, Func: name, Message: fmt.Sprintf("bug: unexpected result status %d; the worker was replaced", res.status)}
		default:
			unwatch()
			p.replace(w)
			return nil, true, &Error{Kind: KindError, Func: name, Message: fmt.Sprintf("bug: unexpected message type %q from the worker; it was replaced", f[0])}
		}
	}
}

// ctxError explains a call that ended with its context. ownTimeout says
// Config.CallTimeout set the deadline.
func (p *Pool) ctxError(ctx context.Context, name string, ownTimeout bool) *Error {
	err := ctx.Err()
	if err == nil {
		err = context.DeadlineExceeded // the worker's clock ran out first
	}
	e := ctxError(err, name)
	if e.Kind == KindTimeout && ownTimeout {
		e.Message = fmt.Sprintf("did not finish within %v (Config.CallTimeout)", p.cfg.CallTimeout)
	}
	return e
}

// abandon tells w to stop call id and waits for it in the background, up
// to KillGrace; a worker that does not answer in time is replaced.
func (p *Pool) abandon(w *proc, id uint64) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.replace(w)
		return
	}
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		w.w.Reset(msgCancel)
		w.w.Uvarint(id)
		w.toChild.SetWriteDeadline(time.Now().Add(p.cfg.KillGrace))
		err := w.send()
		w.toChild.SetWriteDeadline(time.Time{})
		if err != nil {
			p.replace(w)
			return
		}
		w.fromChild.SetReadDeadline(time.Now().Add(p.cfg.KillGrace))
		defer w.fromChild.SetReadDeadline(time.Time{})
		for {
			f, _, err := w.readFrame()
			if err != nil {
				p.replace(w)
				return
			}
			switch f[0] {
			case msgHostCall:
				r := wire.NewReader(f)
				r.Byte()
				seq := r.Uvarint()
				w.w.Reset(msgReply)
				w.w.Uvarint(seq)
				w.w.Byte(statusCanceled)
				w.w.String("the call was canceled")
				if w.send() != nil {
					p.replace(w)
					return
				}
			case msgResult:
				if res, err := parseResult(f); err == nil && res.id == id {
					w.fromChild.SetReadDeadline(time.Time{})
					p.release(w)
					return
				}
				p.replace(w)
				return
			default:
				p.replace(w)
				return
			}
		}
	}()
}

// hostCall runs the host function a plugin asked for and sends the
// answer.
func (p *Pool) hostCall(ctx context.Context, w *proc, f []byte) error {
	r := wire.NewReader(f)
	r.Byte()
	seq := r.Uvarint()
	name := r.String()
	n := r.Count(1)
	args := make([]any, n)
	for i := range args {
		args[i] = wire.DecodeGo(r)
	}
	var results []any
	var ferr error
	if r.Err() != nil {
		ferr = fmt.Errorf("malformed arguments: %w", r.Err())
	} else if fn := p.cfg.Funcs[name]; fn == nil {
		ferr = fmt.Errorf("no host function %q", name)
	} else {
		results, ferr = callFunc(ctx, fn, args)
	}
	w.w.Reset(msgReply)
	w.w.Uvarint(seq)
	if ferr == nil {
		w.w.Byte(statusOK)
		w.w.Uvarint(uint64(len(results)))
		for i, v := range results {
			if err := wire.EncodeGo(&w.w, v); err != nil {
				ferr = fmt.Errorf("result #%d cannot be sent: %w", i+1, err)
				break
			}
		}
	}
	if ferr != nil {
		w.w.Reset(msgReply)
		w.w.Uvarint(seq)
		w.w.Byte(statusError)
		w.w.String(ferr.Error())
	}
	return w.send()
}

// callFunc calls a host function, turning a panic into an error.
func callFunc(ctx context.Context, fn Func, args []any) (results []any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn(ctx, args)
}

// Close kills the workers and waits until they are gone. Calls running at
// that moment fail with an error wrapping ErrClosed; later calls return
// ErrClosed. Close is safe to call more than once.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	workers := make([]*proc, 0, len(p.all))
	for w := range p.all {
		workers = append(workers, w)
	}
	p.mu.Unlock()
	for _, w := range workers {
		w.kill(reasonClosed)
	}
	p.wg.Wait()
	for {
		select {
		case w := <-p.slots:
			if w != nil {
				p.discard(w)
			}
			continue
		default:
		}
		break
	}
	return nil
}

// Stats is a snapshot of a pool.
type Stats struct {
	// Workers is the configured number of workers.
	Workers int
	// Live counts worker processes started and not yet discarded (busy,
	// idle or starting).
	Live int
	// Restarts counts workers replaced after a crash, a kill, a limit or
	// an abandoned call.
	Restarts int64
	// PIDs are the process ids of the live workers, sorted.
	PIDs []int
}

// Stats returns the pool's current numbers.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{Workers: p.cfg.Workers, Live: len(p.all), Restarts: p.restarts.Load()}
	for w := range p.all {
		s.PIDs = append(s.PIDs, w.pid)
	}
	sort.Ints(s.PIDs)
	return s
}
