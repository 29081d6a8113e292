package host

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/host/internal/wire"
	"github.com/vow-sandbox/vow/lualib"
	"github.com/vow-sandbox/vow/sandbox"
)

// Init makes this program's own binary usable as the sandboxed child of
// [Run], [Pool] and vow.run ([OpenVow]). Call it first in main, before
// anything else runs (flag parsing, logging set-up, goroutines):
//
//	func main() {
//		host.Init()
//		// the program as usual
//	}
//
// In a normal start it returns at once (it only looks up one environment
// variable). When the process was started by this package as a child
// (the environment variable VOW_HOST_WORKER is set) it never returns: it
// reads its configuration from the host, sets its resource limits,
// unveils and pledges itself, runs the Lua code it was given, and exits.
//
// Other start-up hooks of the same kind, such as the sandbox package's
// launcher, check their own markers and can be called in any order.
//
// A Go test binary that uses a Pool or Run calls Init in TestMain:
//
//	func TestMain(m *testing.M) {
//		host.Init()
//		os.Exit(m.Run())
//	}
func Init() {
	v, ok := os.LookupEnv(workerEnv)
	if !ok {
		return
	}
	os.Exit(childMain(v))
}

// Exit statuses of a child that ends for its own reasons.
const (
	exitSetup    = 125 // could not start: descriptors, protocol, sandbox
	exitCPULimit = 124 // RLIMIT_CPU's SIGXCPU arrived
)

// cpuLimitLine is what the child writes on its status descriptor when its
// CPU limit ends it; startedLine what it writes first, so that the host can
// tell a binary that does not call Init from one that does.
const (
	cpuLimitLine = "vow-worker: CPU time limit exceeded\n"
	startedLine  = "vow-worker: started\n"
)

func childMain(version string) int {
	os.Unsetenv(workerEnv)
	if version != strconv.Itoa(protocolVersion) {
		fmt.Fprintf(os.Stderr, "vow: this binary was started as a sandboxed child speaking protocol %q, but it speaks %d: "+
			"build the worker from the same version of vow as its host\n", version, protocolVersion)
		return exitSetup
	}
	for _, fd := range []int{fdFromHost, fdToHost, fdStatus} {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
			fmt.Fprintf(os.Stderr, "vow: this process was started as a sandboxed child (%s is set) but descriptor %d is not open: "+
				"children are started by package host, not by hand\n", workerEnv, fd)
			return exitSetup
		}
	}
	// The interpreter is single-threaded: with one P the hand-over
	// between the goroutine reading the host's frames and the
	// interpreter needs no thread wake-up (a pool call takes a third of
	// the time). GOMAXPROCS in the child's environment overrides it.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	// Non-blocking descriptors go through the Go netpoller: a goroutine
	// waiting for the host parks instead of holding a thread in read(2),
	// which makes the hand-over to the interpreter much cheaper.
	unix.SetNonblock(fdFromHost, true)
	unix.SetNonblock(fdToHost, true)
	c := &child{
		in:     os.NewFile(fdFromHost, "vow-from-host"),
		out:    os.NewFile(fdToHost, "vow-to-host"),
		status: os.NewFile(fdStatus, "vow-status"),
	}
	c.status.WriteString(startedLine)
	// The Go runtime's fatal errors (out of memory above all) go to the
	// host too, so it can tell what ended the child.
	if err := debug.SetCrashOutput(c.status, debug.CrashOptions{}); err != nil {
		fmt.Fprintf(os.Stderr, "vow: worker: %v\n", err)
	}
	return c.main()
}

// child is the state of a sandboxed child process.
type child struct {
	in, out, status *os.File
	br              *bufio.Reader // the one reader of in
	w               wire.Buffer
	L               *lua.LState
	maxFrame        int

	// cur is the running call, so that msgCancel can stop it.
	mu  sync.Mutex
	cur struct {
		id     uint64
		cancel context.CancelFunc
	}
	ctx     context.Context // of the running call; nil between calls
	replies chan []byte     // msgReply payloads
	hostSeq uint64
	flush   bool // the io library is open: flush its buffers after each call
}

// call is one msgCall after reading.
type call struct {
	id   uint64
	name string
	args []byte // encoded value list
	ctx  context.Context
	stop context.CancelFunc
}

func (c *child) main() int {
	c.br = bufio.NewReader(c.in)
	p, err := wire.ReadFrame(c.br, nil, 1<<30)
	if err != nil {
		fmt.Fprintf(c.status, "vow-worker: reading the configuration: %v\n", err)
		return exitSetup
	}
	m, err := decodeInit(p)
	if err != nil {
		return c.setupFailed(err)
	}
	c.maxFrame = int(m.maxFrame)
	c.w.Limit = c.maxFrame
	if err := c.setLimits(m); err != nil {
		return c.setupFailed(err)
	}
	prewarm()

	L := lua.NewState(lua.Options{SkipOpenLibs: true, RegistryMaxSize: 1 << 22})
	c.L = L
	openLibraries(L, Library(m.libs), &lualib.Options{
		Pledge:            childPledge,
		DefaultPledgeMode: int(sandbox.PenaltyReturnEPERM),
		Unveil:            childUnveil,
	})
	libs := Library(m.libs)
	c.flush = libs&LibIO != 0
	if libs&LibOS != 0 && libs&LibUnix != 0 {
		exitFlushes(L)
	}
	if len(m.funcs) > 0 {
		t := L.NewTable()
		for _, name := range m.funcs {
			t.RawSetString(name, L.NewFunction(c.hostFunc(name)))
		}
		L.SetGlobal("host", t)
	}

	if err := c.restrictSelf(m); err != nil {
		return c.setupFailed(err)
	}

	fn, err := L.Load(strings.NewReader(m.code), m.name)
	if err != nil {
		c.writeError(0, err, nil)
		return 1
	}
	if m.mode == modeRun {
		go c.watchHost()
		return c.run(fn, m.args)
	}
	return c.serve(fn)
}

// exitFlushes makes os.exit end the child through unix.exit, which
// flushes the io library's buffers first (gopher-lua's os.exit loses
// them), as the vow command's interpreter does; true means 0, false 1.
func exitFlushes(L *lua.LState) {
	osTable, ok1 := L.GetGlobal("os").(*lua.LTable)
	unixTable, ok2 := L.GetGlobal("unix").(*lua.LTable)
	if !ok1 || !ok2 {
		return
	}
	exit := unixTable.RawGetString("exit")
	osTable.RawSetString("exit", L.NewFunction(func(L *lua.LState) int {
		code := L.Get(1)
		switch v := code.(type) {
		case *lua.LNilType:
			code = lua.LNumber(0)
		case lua.LBool:
			code = lua.LNumber(0)
			if !v {
				code = lua.LNumber(1)
			}
		}
		L.Push(exit)
		L.Push(code)
		L.Call(1, 0)
		return 0
	}))
}

// setupFailed reports an error from before the code could run.
func (c *child) setupFailed(err error) int {
	c.w.Reset(msgResult)
	c.w.Uvarint(0)
	c.w.Byte(statusSetup)
	c.w.String(err.Error())
	c.send()
	return exitSetup
}

// setLimits applies the memory and CPU limits and disables core dumps.
func (c *child) setLimits(m *initMsg) error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return fmt.Errorf("setting RLIMIT_CORE: %w", err)
	}
	if m.cpu > 0 {
		// SIGXCPU at the soft limit (which the Go runtime would ignore),
		// SIGKILL a second later.
		xcpu := make(chan os.Signal, 1)
		signal.Notify(xcpu, syscall.SIGXCPU)
		go func() {
			<-xcpu
			c.status.WriteString(cpuLimitLine)
			os.Exit(exitCPULimit)
		}()
		if err := unix.Setrlimit(unix.RLIMIT_CPU, &unix.Rlimit{Cur: m.cpu, Max: m.cpu + 1}); err != nil {
			return fmt.Errorf("setting RLIMIT_CPU to %d s: %w", m.cpu, err)
		}
	}
	if m.memory > 0 {
		// RLIMIT_DATA counts private writable mappings. The Go runtime
		// reserves address space without access first, which does not
		// count, so the limit follows what is really mapped; RLIMIT_AS
		// would count the ~1 GB of reservations a Go process starts with.
		base, err := vmData()
		if err != nil {
			return err
		}
		lim := base + m.memory
		if lim < base { // overflow
			lim = unix.RLIM_INFINITY
		}
		if err := unix.Setrlimit(unix.RLIMIT_DATA, &unix.Rlimit{Cur: lim, Max: lim}); err != nil {
			return fmt.Errorf("setting RLIMIT_DATA to %d bytes: %w", lim, err)
		}
		// Make the collector work harder before the hard limit is hit.
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		soft := ms.Sys - ms.HeapReleased + m.memory
		if soft > math.MaxInt64 {
			soft = math.MaxInt64
		}
		debug.SetMemoryLimit(int64(soft))
	}
	return nil
}

// vmData reads VmData, the private writable memory of this process.
func vmData() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("reading the memory use of the child: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmData:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				break
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("cannot find VmData in /proc/self/status")
}

// prewarm does the lazy initialisations that would need files once the
// child is unveiled and pledged.
func prewarm() {
	time.Now().Local().Zone() // time.Local reads /etc/localtime
}

// restrictSelf unveils and pledges this process as m says. With
// m.notify the filter hands refused calls to the host, which takes the
// listener descriptor and says so before the child goes on.
func (c *child) restrictSelf(m *initMsg) error {
	for _, r := range m.unveil {
		if err := sandbox.Unveil(r.Path, r.Perms); err != nil {
			return err
		}
	}
	if err := sandbox.UnveilCommit(); err != nil {
		return err
	}
	mode := sandbox.Mode(m.penalty)
	if !m.notify {
		return sandbox.Pledge(m.promises, nil, mode)
	}
	fd, err := sandbox.PledgeNotify(m.promises, nil, mode&^sandbox.StderrLogging)
	if err != nil {
		return err
	}
	c.w.Reset(msgListener)
	c.w.Uvarint(uint64(fd))
	c.send()
	p, err := wire.ReadFrame(c.br, nil, 1<<30)
	if err != nil || p[0] != msgAck {
		os.Exit(0) // the host went away, or broke the protocol
	}
	unix.Close(fd)
	return nil
}

// childPledge is unix.pledge inside a child: it narrows the child.
func childPledge(promises, execpromises *string, mode int) error {
	if promises == nil {
		if execpromises != nil {
			return lualib.NewErrno(syscall.EINVAL, "execpromises given without promises")
		}
		return sandbox.SeccompAvailable()
	}
	return sandbox.Pledge(*promises, execpromises, sandbox.Mode(mode))
}

// childUnveil is unix.unveil inside a child.
func childUnveil(path, perms *string) (int, error) {
	switch {
	case path == nil && perms == nil:
		return 0, sandbox.UnveilCommit()
	case path != nil && *path == "" && perms == nil:
		return sandbox.LandlockABI(), nil
	case path == nil || perms == nil:
		return 0, lualib.NewErrno(syscall.EINVAL, "unveil needs a path and permissions, or nil, nil to commit")
	}
	return 0, sandbox.Unveil(*path, *perms)
}

// send writes the frame in c.w; a failure means the host is gone.
func (c *child) send() {
	f, err := c.w.Frame()
	if err != nil {
		// Only a result can be too large; say so instead.
		fmt.Fprintf(c.status, "vow-worker: bug: an oversized frame was not caught: %v\n", err)
		os.Exit(exitSetup)
	}
	if _, err := c.out.Write(f); err != nil {
		os.Exit(0) // the host went away: nobody is waiting for the answer
	}
}

// watchHost ends the child when the host goes away (its end of the pipe
// closes) or sends something it should not in run mode.
func (c *child) watchHost() {
	c.br.ReadByte()
	os.Exit(0)
}

// run calls fn with the encoded arguments and answers with its results.
func (c *child) run(fn *lua.LFunction, args []byte) int {
	L := c.L
	L.Push(fn)
	n, err := c.pushValues(args)
	if err != nil {
		return c.setupFailed(fmt.Errorf("bug: decoding the arguments: %w", err))
	}
	err = L.PCall(n, lua.MultRet, nil)
	if c.flush {
		lualib.Flush(L)
	}
	if err != nil {
		c.writeError(1, err, nil)
		return 0
	}
	c.writeResults(1, 1)
	return 0
}

// pushValues decodes an encoded value list onto L's stack.
func (c *child) pushValues(p []byte) (int, error) {
	r := wire.NewReader(p)
	n := r.Count(1)
	for i := 0; i < n; i++ {
		c.L.Push(wire.DecodeLua(r, c.L))
	}
	if r.Err() == nil && r.Left() != 0 {
		r.Failf("%d bytes after the values", r.Left())
	}
	if r.Err() != nil {
		c.L.Pop(n)
		return 0, r.Err()
	}
	return n, nil
}

// writeResults sends the values on L's stack from index base up as the
// result of call id, and clears the stack.
func (c *child) writeResults(id uint64, base int) {
	L := c.L
	top := L.GetTop()
	defer L.SetTop(0)
	c.w.Reset(msgResult)
	c.w.Uvarint(id)
	c.w.Byte(statusOK)
	c.w.Uvarint(uint64(top - base + 1))
	for i := base; i <= top; i++ {
		if err := wire.EncodeLua(&c.w, L.Get(i)); err != nil {
			msg := fmt.Sprintf("result #%d cannot be returned: %v", i-base+1, err)
			if errors.Is(err, wire.ErrTooLarge) {
				msg = fmt.Sprintf("the results are larger than the limit of %d bytes", c.maxFrame)
			}
			c.writeMessage(id, statusError, msg)
			return
		}
	}
	c.send()
}

// writeMessage answers call id with a status and a message.
func (c *child) writeMessage(id uint64, status byte, msg string) {
	c.w.Limit = 0
	defer func() { c.w.Limit = c.maxFrame }()
	c.w.Reset(msgResult)
	c.w.Uvarint(id)
	c.w.Byte(status)
	c.w.String(msg)
	if status == statusError {
		c.w.String("") // traceback
		c.w.Nil()      // value
	}
	c.send()
}

// writeError answers call id with the Lua error err (from PCall or Load).
// ctx, when not nil, is the call's context: a Lua error caused by its
// end is a timeout or a cancellation.
func (c *child) writeError(id uint64, err error, ctx context.Context) {
	c.L.SetTop(0)
	if ctx != nil {
		switch ctx.Err() {
		case context.DeadlineExceeded:
			c.writeMessage(id, statusTimeout, "the call's deadline passed")
			return
		case context.Canceled:
			c.writeMessage(id, statusCanceled, "the call was canceled")
			return
		}
	}
	var value lua.LValue = lua.LString(err.Error())
	msg, trace := err.Error(), ""
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		trace = ae.StackTrace
		if ae.Object != nil {
			value = ae.Object
			msg = c.L.ToStringMeta(ae.Object).String()
			if ae.Type == lua.ApiErrorSyntax {
				msg = strings.TrimSpace(ae.Object.String())
			}
		}
	}
	c.w.Limit = 0
	defer func() { c.w.Limit = c.maxFrame }()
	start := func() {
		c.w.Reset(msgResult)
		c.w.Uvarint(id)
		c.w.Byte(statusError)
		c.w.String(msg)
		c.w.String(trace)
	}
	start()
	mark := c.w.Len()
	if wire.EncodeLua(&c.w, value) != nil || c.w.Len()-mark > c.maxFrame/2 {
		// Not sendable (a function, a cycle) or huge: the message says it.
		start()
		c.w.Nil()
	}
	c.send()
}

// serve runs the plugin's main chunk, reports it ready, and answers calls
// until the host goes away.
func (c *child) serve(fn *lua.LFunction) int {
	L := c.L
	L.Push(fn)
	if err := L.PCall(0, 0, nil); err != nil {
		c.writeError(0, err, nil)
		return 1
	}
	c.writeResults(0, 1)
	calls := make(chan *call)
	c.replies = make(chan []byte, 1)
	go c.readHost(calls)
	for cl := range calls {
		c.do(cl)
		cl.stop()
		c.mu.Lock()
		if c.cur.id == cl.id { // the host may have sent the next call already
			c.cur.cancel = nil
		}
		c.mu.Unlock()
	}
	return 0
}

// readHost reads frames from the host: calls go to calls, cancellations
// stop the running call, replies to host functions go to c.replies. When
// the host goes away the child exits.
func (c *child) readHost(calls chan<- *call) {
	for {
		p, err := wire.ReadFrame(c.br, nil, 1<<30)
		if err != nil {
			os.Exit(0)
		}
		r := wire.NewReader(p)
		switch r.Byte() {
		case msgCall:
			cl := &call{id: r.Uvarint(), name: r.String()}
			timeout := time.Duration(r.Uvarint())
			cl.args = p[len(p)-r.Left():]
			if r.Err() != nil {
				c.protocolError(r.Err())
			}
			if timeout > 0 {
				cl.ctx, cl.stop = context.WithTimeout(context.Background(), timeout)
			} else {
				cl.ctx, cl.stop = context.WithCancel(context.Background())
			}
			c.mu.Lock()
			c.cur.id, c.cur.cancel = cl.id, cl.stop
			c.mu.Unlock()
			calls <- cl
		case msgCancel:
			id := r.Uvarint()
			c.mu.Lock()
			if c.cur.id == id && c.cur.cancel != nil {
				c.cur.cancel()
			}
			c.mu.Unlock()
		case msgReply:
			// Drop a stale reply rather than block.
			select {
			case c.replies <- p:
			default:
				select {
				case <-c.replies:
				default:
				}
				c.replies <- p
			}
		default:
			c.protocolError(fmt.Errorf("unexpected message type %q", p[0]))
		}
	}
}

func (c *child) protocolError(err error) {
	fmt.Fprintf(c.status, "vow-worker: protocol error: %v\n", err)
	os.Exit(exitSetup)
}

// do runs one call.
func (c *child) do(cl *call) {
	L := c.L
	fn, ok := L.GetGlobal(cl.name).(*lua.LFunction)
	if !ok {
		c.writeMessage(cl.id, statusError, fmt.Sprintf("the plugin has no function %q (the global is %s)",
			cl.name, L.GetGlobal(cl.name).Type()))
		return
	}
	L.Push(fn)
	n, err := c.pushValues(cl.args)
	if err != nil {
		L.SetTop(0)
		c.writeMessage(cl.id, statusError, fmt.Sprintf("bug: decoding the arguments: %v", err))
		return
	}
	c.ctx = cl.ctx
	L.SetContext(cl.ctx)
	err = L.PCall(n, lua.MultRet, nil)
	L.RemoveContext()
	c.ctx = nil
	if c.flush {
		lualib.Flush(L)
	}
	if err != nil {
		c.writeError(cl.id, err, cl.ctx)
		return
	}
	c.writeResults(cl.id, 1)
}

// hostFunc is the Lua side of the host function name: it sends the
// arguments to the host and waits for the answer.
func (c *child) hostFunc(name string) lua.LGFunction {
	return func(L *lua.LState) int {
		ctx := c.ctx
		if ctx == nil {
			L.RaiseError("host.%s can only be called while the host is calling the plugin, not while it loads", name)
		}
		n := L.GetTop()
		c.hostSeq++
		seq := c.hostSeq
		c.w.Reset(msgHostCall)
		c.w.Uvarint(seq)
		c.w.String(name)
		c.w.Uvarint(uint64(n))
		for i := 1; i <= n; i++ {
			if err := wire.EncodeLua(&c.w, L.Get(i)); err != nil {
				if errors.Is(err, wire.ErrTooLarge) {
					L.RaiseError("host.%s: the arguments are larger than the limit of %d bytes", name, c.maxFrame)
				}
				L.RaiseError("bad argument #%d to 'host.%s' (%v)", i, name, err)
			}
		}
		c.send()
		for {
			select {
			case p := <-c.replies:
				r := wire.NewReader(p)
				r.Byte()
				if r.Uvarint() != seq {
					continue // the answer to an abandoned call
				}
				if r.Byte() != statusOK {
					L.RaiseError("host.%s: %s", name, r.String())
				}
				L.SetTop(0)
				k, err := c.pushValues(p[len(p)-r.Left():])
				if err != nil {
					L.RaiseError("bug: host.%s: decoding the results: %v", name, err)
				}
				return k
			case <-ctx.Done():
				L.RaiseError("host.%s: %v", name, ctx.Err())
			}
		}
	}
}

// lastWords reduces a child's status output to what explains its end:
// the CPU limit line; whether the Go runtime ran out of memory (oom) or
// at least crashed inside itself (inRuntime); and a one-line description
// of a crash.
//
// The runtime writes the "fatal error: ..." line of a throw only to
// stderr, before it starts copying to the crash output; the crash output
// begins with the "runtime stack:" that follows. So an out-of-memory
// death is recognised by the function that threw: the runtime's memory
// allocators and the thread starter (whose stack is allocated too).
// Under a memory limit the Go 1.26 garbage collector can also die of a
// nil dereference when an internal allocation fails (SIGSEGV in
// runtime.(*spanQueue).tryDrain); inRuntime reports such crashes.
func lastWords(b []byte) (cpu, oom, inRuntime bool, crash string) {
	s := strings.Replace(string(b), startedLine, "", 1)
	cpu = strings.Contains(s, strings.TrimSpace(cpuLimitLine))
	thrower := throwSite(s)
	oom = strings.Contains(s, "out of memory") || strings.Contains(s, "cannot allocate memory") || allocThrower.MatchString(thrower)
	inRuntime = thrower != "" || runtimeSignal.MatchString(s)
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "fatal error:") || strings.HasPrefix(line, "vow-worker:") {
			return cpu, oom, inRuntime, strings.TrimSpace(line)
		}
	}
	switch {
	case thrower != "":
		crash = "the Go runtime threw an error in " + thrower
	case inRuntime:
		crash = "the Go runtime crashed: " + strings.SplitN(s, "\n", 2)[0]
	}
	return cpu, oom, inRuntime, crash
}

// runtimeSignal matches the crash output of a signal (SIGSEGV, …) taken
// inside the Go runtime: the first frame of the crashing goroutine is a
// runtime function.
var runtimeSignal = regexp.MustCompile(`^SIG[A-Z]+: [^\n]*\nPC=[^\n]*\n\ngoroutine [^\n]*\nruntime\.`)

// allocThrower matches the runtime functions that throw when memory runs
// out (their throws say "out of memory" or "cannot allocate memory").
var allocThrower = regexp.MustCompile(`^runtime\.(sys(Map|Alloc|Reserve|Huge)\w*|\(\*mheap\)\.\w+|\(\*mcache\)\.\w+|` +
	`persistentalloc\w*|stack\w*alloc\w*|stackcacherefill|\(\*pageAlloc\)\.\w+|\(\*gcWork\)\.\w+|newosproc\w*|` +
	`\(\*userArena\)\.\w+|rawstring\w*|mallocgc\w*|\(\*linearAlloc\)\.\w+|\(\*fixalloc\)\.\w+)$`)

// throwSite returns the function that called runtime.throw in a crash
// output's "runtime stack:", or "".
func throwSite(s string) string {
	i := strings.Index(s, "\nruntime.throw(")
	if i < 0 {
		return ""
	}
	lines := strings.Split(s[i+1:], "\n")
	// lines[0] is runtime.throw(...), lines[1] its file; then the caller.
	for _, l := range lines[1:] {
		if l == "" || l[0] == '\t' {
			continue
		}
		if j := strings.IndexByte(l, '('); j > 0 && !strings.HasPrefix(l, "(") {
			// "runtime.(*mheap).grow(...)": cut at the argument list.
			k := strings.LastIndex(l, "(")
			return l[:k]
		}
		return l
	}
	return ""
}
