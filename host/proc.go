package host

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vow-sandbox/vow/host/internal/wire"
	"github.com/vow-sandbox/vow/sandbox"
	"github.com/vow-sandbox/vow/sandbox/promise"
)

// spawnSpec is how to start a child process.
type spawnSpec struct {
	exe      string    // "" means this program's binary
	env      []string  // the child's environment (the marker is added)
	stdout   io.Writer // an *os.File is handed over; nil discards
	stderr   io.Writer
	maxFrame int
	memory   int64         // for messages
	cpu      time.Duration // for messages and classification
	// supervise, when not nil, has the child pledge with a listener that
	// a sandbox.Supervisor in this process serves (violation reports).
	supervise *sandbox.SupervisorConfig
}

// superviseConfig returns the supervisor configuration for a policy, or
// nil when nobody wants to hear of violations.
func superviseConfig(pol *Policy, stderr io.Writer, on func(sandbox.Violation)) (*sandbox.SupervisorConfig, error) {
	if !pol.LogViolations && on == nil {
		return nil, nil
	}
	set, err := promise.Parse(pol.promises())
	if err != nil {
		return nil, err
	}
	cfg := &sandbox.SupervisorConfig{Promises: set, Mode: pol.mode() &^ sandbox.StderrLogging, Runtime: true, OnViolation: on}
	if pol.LogViolations {
		cfg.Log = stderr
	}
	return cfg, nil
}

// defaultExecutable is the child binary when none is configured: this
// program. (Tests built with cgo point it at a worker built without.)
var defaultExecutable = "/proc/self/exe"

// How long a child's output may keep arriving after it exited (from
// processes it started that hold its stdout), as exec.Cmd.WaitDelay.
const outputDelay = time.Second

// statusKeep is how much of a child's last words is kept.
const statusKeep = 16 << 10

// Reasons the host killed a child, which decide how its end is reported.
const (
	reasonTimeout  = "timeout"
	reasonCanceled = "canceled"
	reasonClosed   = "closed"
	reasonBroken   = "broken" // protocol error or abandoned call
)

// proc is a running child seen from the host.
type proc struct {
	process   *os.Process
	pid       int
	toChild   *os.File
	fromChild *os.File
	br        *bufio.Reader
	w         wire.Buffer // frames to the child
	rbuf      []byte      // the last frame from the child, reused
	spec      *spawnSpec

	exited chan struct{}    // closed once the child is reaped and its output drained
	state  *os.ProcessState // valid after exited
	status []byte           // last words, valid after exited
	outs   []*os.File       // read ends of output pipes
	copies sync.WaitGroup   // output copiers

	killMu sync.Mutex
	reason string // why the host killed it, "" if it did not
	reaped bool
	// sup answers the child's violations (spawnSpec.supervise); set under
	// killMu, read after exited.
	sup       *sandbox.Supervisor
	serveDone chan struct{}
}

// devNull is the child's stdin, opened once per process and kept.
var devNull = sync.OnceValues(func() (*os.File, error) { return os.Open(os.DevNull) })

// emptyInput returns a stdin for a child: /dev/null, or when this process
// may not open it (pledged without rpath, or unveiled), the read end of a
// pipe whose write end is closed, which reads as empty just the same. The
// child must get a descriptor 0: the Go runtime opens /dev/null for a
// closed one and dies if it cannot.
func emptyInput() (f *os.File, closeAfterStart bool, err error) {
	if f, err := devNull(); err == nil {
		return f, false, nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, false, fmt.Errorf("host: creating the child's empty stdin: %w", err)
	}
	w.Close()
	return r, true, nil
}

// startProc starts a child and sends it init. onExit, when not nil, runs
// when the child has been reaped (from the goroutine that reaps it).
func startProc(spec *spawnSpec, init *initMsg, onExit func()) (p *proc, err error) {
	if _, ok := os.LookupEnv(workerEnv); ok {
		return nil, fmt.Errorf("host: this process was started as a sandboxed vow child (%s is set) but runs its normal main: "+
			"call host.Init() first in main (or in TestMain) so the binary can serve as the child", workerEnv)
	}
	exe := spec.exe
	if exe == "" {
		exe = defaultExecutable
	}
	var closeLater, closeNow []*os.File
	defer func() {
		for _, f := range closeNow {
			f.Close()
		}
		if err != nil {
			for _, f := range closeLater {
				f.Close()
			}
		}
	}()
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err != nil {
			return nil, nil, fmt.Errorf("host: creating a pipe for the child: %w", err)
		}
		return r, w, nil
	}
	inR, inW, err := pipe()
	if err != nil {
		return nil, err
	}
	closeNow, closeLater = append(closeNow, inR), append(closeLater, inW)
	outR, outW, err := pipe()
	if err != nil {
		return nil, err
	}
	closeNow, closeLater = append(closeNow, outW), append(closeLater, outR)
	stR, stW, err := pipe()
	if err != nil {
		return nil, err
	}
	closeNow, closeLater = append(closeNow, stW), append(closeLater, stR)

	p = &proc{toChild: inW, fromChild: outR, spec: spec, exited: make(chan struct{})}
	p.w.Limit = 0
	files := []*os.File{nil, nil, nil, inR, outW, stW}
	stdin, closeStdin, err := emptyInput()
	if err != nil {
		return nil, err
	}
	if closeStdin {
		closeNow = append(closeNow, stdin)
	}
	files[0] = stdin
	var copiers []func()
	for i, out := range []io.Writer{spec.stdout, spec.stderr} {
		if out == nil {
			out = io.Discard
		}
		switch out := out.(type) {
		case *os.File:
			if out == nil {
				return nil, errors.New("bug: host: a nil *os.File given as the child's output")
			}
			files[1+i] = out
		default:
			r, w, err := pipe()
			if err != nil {
				return nil, err
			}
			closeNow, closeLater = append(closeNow, w), append(closeLater, r)
			files[1+i] = w
			p.outs = append(p.outs, r)
			copiers = append(copiers, func() {
				defer p.copies.Done()
				io.Copy(out, r)
			})
		}
	}

	env := append(append([]string(nil), spec.env...), fmt.Sprintf("%s=%d", workerEnv, protocolVersion))
	p.process, err = os.StartProcess(exe, []string{"vow-worker"}, &os.ProcAttr{Env: env, Files: files})
	if err != nil {
		hint := ""
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			hint = " (a pledge without \"proc exec\", or an unveil that does not give rx on the binary, forbids starting it)"
		}
		return nil, fmt.Errorf("host: starting the sandboxed child %s: %w%s", exe, err, hint)
	}
	p.pid = p.process.Pid
	p.br = bufio.NewReaderSize(newSpinReader(outR), 16<<10)
	for _, c := range copiers {
		p.copies.Add(1)
		go c()
	}
	go p.reap(stR, onExit)

	m := *init // shared by the workers of a pool
	m.maxFrame = uint64(spec.maxFrame)
	m.notify = spec.supervise != nil
	m.encode(&p.w)
	if err := p.send(); err != nil {
		p.kill(reasonBroken)
		<-p.exited
		p.close()
		return nil, fmt.Errorf("host: sending the configuration to the sandboxed child: %w", err)
	}
	return p, nil
}

// reap drains the child's last words, waits for it, and lets its output
// copiers finish.
func (p *proc) reap(status *os.File, onExit func()) {
	buf := make([]byte, 0, 512)
	var chunk [4096]byte
	for {
		n, err := status.Read(chunk[:])
		if len(buf) < statusKeep {
			buf = append(buf, chunk[:min(n, statusKeep-len(buf))]...)
		}
		if err != nil {
			break
		}
	}
	status.Close()
	state, err := p.process.Wait()
	if err != nil && state == nil {
		// Should not happen: the child is ours and reaped only here.
		buf = append(buf, fmt.Sprintf("\nvow-worker: bug: waiting for the child failed: %v\n", err)...)
	}
	for _, r := range p.outs {
		r.SetReadDeadline(time.Now().Add(outputDelay))
	}
	p.copies.Wait()
	p.killMu.Lock()
	p.reaped = true
	sup, served := p.sup, p.serveDone
	p.killMu.Unlock()
	if sup != nil {
		// Serve ends by itself once no process uses the filter; one the
		// child started may still.
		select {
		case <-served:
		case <-time.After(outputDelay):
		}
		sup.Close()
		<-served
	}
	p.state, p.status = state, buf
	close(p.exited)
	if onExit != nil {
		onExit()
	}
}

// send writes the frame built in p.w.
func (p *proc) send() error {
	f, err := p.w.Frame()
	if err != nil {
		return err
	}
	_, err = p.toChild.Write(f)
	return err
}

// readFrame reads the next frame from the child. clean reports, with an
// error, that no byte of a frame was consumed, so that the stream is still
// usable after a read deadline (a frame that fits the buffer is peeked
// whole before it is consumed).
func (p *proc) readFrame() (f []byte, clean bool, err error) {
	hdr, err := p.br.Peek(4)
	if err != nil {
		return nil, true, err
	}
	n := int64(binary.LittleEndian.Uint32(hdr))
	if n == 0 || n > int64(p.spec.maxFrame) {
		return nil, false, fmt.Errorf("the child sent a frame of %d bytes (the limit is %d, MaxMessage): %w", n, p.spec.maxFrame, wire.ErrTooLarge)
	}
	if int(n)+4 <= p.br.Size() {
		b, err := p.br.Peek(int(n) + 4)
		if err != nil {
			return nil, true, err
		}
		f = append(p.rbuf[:0], b[4:]...)
		p.br.Discard(int(n) + 4)
		p.rbuf = f
		return f, false, nil
	}
	p.br.Discard(4)
	f = make([]byte, n)
	if _, err := io.ReadFull(p.br, f); err != nil {
		return nil, false, err
	}
	return f, false, nil
}

// readAnswer reads the child's first answer after the configuration,
// taking its seccomp listener on the way when it sends one.
func (p *proc) readAnswer() ([]byte, error) {
	for {
		f, _, err := p.readFrame()
		if err != nil || f[0] != msgListener {
			return f, err
		}
		if err := p.superviseChild(f); err != nil {
			p.kill(reasonBroken)
			return nil, err
		}
	}
}

// superviseChild takes the listener the child announced in f, serves it,
// and tells the child to go on.
func (p *proc) superviseChild(f []byte) error {
	r := wire.NewReader(f)
	r.Byte()
	fd := r.Uvarint()
	if r.Err() != nil || p.spec.supervise == nil || fd > math.MaxInt32 {
		return errors.New("host: the child sent a seccomp listener that was not asked for")
	}
	l, err := sandbox.TakeListener(p.pid, int(fd))
	if err != nil {
		return fmt.Errorf("host: taking the seccomp listener of the child, to report its violations: %w", err)
	}
	p.killMu.Lock()
	if p.reaped || p.sup != nil {
		p.killMu.Unlock()
		l.Close()
		return errors.New("host: the child ended before its violations could be supervised")
	}
	p.sup = sandbox.NewSupervisor(l, *p.spec.supervise)
	p.serveDone = make(chan struct{})
	go func(sup *sandbox.Supervisor, done chan struct{}) {
		sup.Serve()
		close(done)
	}(p.sup, p.serveDone)
	p.killMu.Unlock()
	p.w.Reset(msgAck)
	return p.send()
}

// watch makes reads from and writes to the child fail once ctx is done;
// the function it returns undoes that.
func (p *proc) watch(ctx context.Context) (unwatch func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	var mu sync.Mutex
	stopped := false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			p.fromChild.SetReadDeadline(aLongTimeAgo)
			p.toChild.SetWriteDeadline(aLongTimeAgo)
		}
	})
	return func() {
		if stop() {
			return // never ran
		}
		mu.Lock()
		stopped = true
		mu.Unlock()
		p.fromChild.SetReadDeadline(time.Time{})
		p.toChild.SetWriteDeadline(time.Time{})
	}
}

var aLongTimeAgo = time.Unix(1, 0)

// kill ends the child with SIGKILL, remembering the first reason given.
func (p *proc) kill(reason string) {
	p.killMu.Lock()
	if p.reason == "" {
		p.reason = reason
	}
	p.killMu.Unlock()
	p.process.Kill() // after the child is reaped: os.ErrProcessDone, harmless
}

func (p *proc) killReason() string {
	p.killMu.Lock()
	defer p.killMu.Unlock()
	return p.reason
}

// close releases the host's ends of the pipes; the child must have been
// reaped.
func (p *proc) close() {
	p.toChild.Close()
	p.fromChild.Close()
	for _, r := range p.outs {
		r.Close()
	}
}

// alive reports whether the child has not been reaped yet.
func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// started reports whether a reaped child got as far as Init.
func (p *proc) started() bool {
	return strings.Contains(string(p.status), startedLine)
}

// notStarted explains a reaped child that never reached Init, or nil.
func (p *proc) notStarted(exe string) error {
	ws, _ := p.state.Sys().(syscall.WaitStatus)
	if p.started() || ws.Signaled() && p.killReason() != reasonTimeout {
		return nil // a kill from outside is reported as such
	}
	if exe == "" {
		exe = defaultExecutable
	}
	how := fmt.Sprintf("exit status %d", ws.ExitStatus())
	switch {
	case p.killReason() == reasonTimeout:
		how = "killed when it did not answer in time"
	case ws.Signaled():
		how = "killed by " + signalName(ws.Signal())
	}
	return fmt.Errorf("host: the sandboxed child %s ended (%s) before host.Init took over: "+
		"the program must call host.Init() first in main (its stderr may say more)", exe, how)
}

// failure explains the end of a reaped child that did not answer. what
// names the limit in messages ("opts.timeout", "Config.CallTimeout").
func (p *proc) failure(timeout time.Duration, timeoutName string) *Error {
	cpu, oom, inRuntime, crash := lastWords(p.status)
	e := &Error{Crash: crash}
	ws, _ := p.state.Sys().(syscall.WaitStatus)
	var cpuUsed time.Duration
	if ru, ok := p.state.SysUsage().(*syscall.Rusage); ok {
		cpuUsed = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	switch reason := p.killReason(); {
	case reason == reasonTimeout:
		e.Kind = KindTimeout
		e.Message = fmt.Sprintf("did not finish within %v (%s); the child was killed", timeout, timeoutName)
	case reason == reasonCanceled:
		e.Kind, e.Message = KindCanceled, "the call was canceled; the child was killed"
	case reason == reasonClosed:
		e.Kind, e.Message = KindCanceled, "the pool was closed"
		e.cause = ErrClosed
	case cpu || p.spec.cpu > 0 && ws.Signaled() && (ws.Signal() == syscall.SIGXCPU ||
		ws.Signal() == syscall.SIGKILL && cpuUsed >= time.Duration(cpuSeconds(p.spec.cpu))*time.Second):
		e.Kind = KindTimeout
		e.Message = fmt.Sprintf("used up its CPU time limit of %v", p.spec.cpu)
	case oom || inRuntime && p.spec.memory > 0 && !ws.Signaled():
		e.Kind = KindMemory
		if p.spec.memory > 0 {
			e.Message = fmt.Sprintf("ran out of memory (its limit: %s on top of its start-up footprint)", byteSize(p.spec.memory))
		} else {
			e.Message = "ran out of memory"
		}
	case p.sup != nil && p.sup.Killed(p.pid):
		// The supervisor kills a Go child with SIGKILL (its runtime
		// catches SIGSYS); report it as the kernel's kill would be.
		e.Kind, e.Signal = KindKilled, syscall.SIGSYS
		e.Message = "killed by SIGSYS (a system call its promises do not allow, with the kill penalty)"
	case ws.Signaled():
		e.Kind, e.Signal = KindKilled, ws.Signal()
		e.Message = fmt.Sprintf("killed by %s", signalName(ws.Signal()))
		if ws.Signal() == syscall.SIGSYS {
			e.Message += " (a system call its promises do not allow, with the kill penalty)"
		}
	case crash != "":
		e.Kind = KindError
		e.Message = fmt.Sprintf("the child crashed (exit status %d): %s", ws.ExitStatus(), crash)
	default:
		e.Kind, e.Status = KindExit, ws.ExitStatus()
		e.Message = fmt.Sprintf("exited with status %d before returning", ws.ExitStatus())
	}
	return e
}

// byteSize formats n bytes for people.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// cpuSeconds converts a CPU limit to whole seconds for RLIMIT_CPU,
// rounding up; 0 stays 0 (no limit).
func cpuSeconds(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64(math.Ceil(d.Seconds()))
}
