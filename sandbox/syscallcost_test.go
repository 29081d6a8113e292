package sandbox

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/sandbox/bpf"
	"github.com/vow-sandbox/vow/sandbox/filter"
	"github.com/vow-sandbox/vow/sandbox/promise"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

// What a system call costs under a seccomp filter (issue 4, "Measured"):
// BenchmarkSyscallCost times a tight loop of one cheap system call under
// several filters, each in a process of its own because a filter cannot
// be removed once installed. bench/syscallcost.sh runs it and prints the
// table of docs/benchmarks.md.

// costCall is a cheap system call made in the timed loop.
type costCall struct {
	name string
	args func(fd uintptr) (a0, a1 uintptr)
}

// costCalls: getppid is allowed unconditionally by stdio (the kernel's
// action cache can serve it); fcntl(fd, F_GETFD) is argument-checked (stdio
// allows only some commands), so the filter runs for every call.
var costCalls = []costCall{
	{"getppid", func(uintptr) (uintptr, uintptr) { return 0, 0 }},
	{"fcntl", func(fd uintptr) (uintptr, uintptr) { return fd, unix.F_GETFD }},
}

// costCondition is a filter (or none) a loop runs under.
type costCondition struct {
	name string
	// prog returns the filter for process pid; nil prog means none.
	prog func(pid uint32) ([]unix.SockFilter, error)
}

var (
	// allowAll is the one-instruction filter: the kernel's fixed cost of
	// having seccomp at all (the action cache serves every call).
	allowAll = []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}}
	// allowUncached allows everything after loading an argument, which
	// the action cache cannot serve: the cost of running a filter at all.
	allowUncached = []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 16}, // args[0], low word
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
)

// costPolicy is the vow filter measured: every promise, EPERM, with the Go
// runtime's needs, as sandbox.Pledge installs it in this process.
func costPolicy(pid uint32) *filter.Policy {
	return &filter.Policy{Promises: promise.All, Penalty: filter.ReturnEPERM, Runtime: true, PID: pid}
}

func compiled(compile func(*filter.Policy) (*bpf.Program, error)) func(uint32) ([]unix.SockFilter, error) {
	return func(pid uint32) ([]unix.SockFilter, error) {
		prog, err := compile(costPolicy(pid))
		if err != nil {
			return nil, err
		}
		return prog.Insns, nil
	}
}

// costConditions; each is divided by the baselines (costBaseline) listed
// before it.
var costConditions = []costCondition{
	{"none", nil},
	{"allow-all", func(uint32) ([]unix.SockFilter, error) { return allowAll, nil }},
	{"allow-uncached", func(uint32) ([]unix.SockFilter, error) { return allowUncached, nil }},
	{"vow", compiled(filter.Compile)},
	{"linear", compiled(filter.CompileLinear)},
}

// syscallCostEnv tells a re-executed test binary to serve as one
// condition's measuring process: "call/condition".
const syscallCostEnv = "VOW_SYSCALLCOST"

// Slices a run is cut into, and the fewest calls worth timing as a slice.
const (
	costSlices   = 16
	costMinSlice = 10000
)

// BenchmarkSyscallCost times, for each call, a loop of b.N raw system
// calls under every condition in one run: one child process per condition
// (a filter cannot be removed) installs its filter on every thread, as
// Pledge does, then runs the loop in slices on demand; the parent runs the
// slices in turn, rotating the order, so drift and other load hit every
// condition alike. Process start, filter installation and a warm-up slice
// are not timed.
//
// Conditions: none; allow-all (one RET ALLOW, which the kernel's action
// cache serves: the fixed cost of having seccomp at all); allow-uncached
// (a two-instruction allow that reads an argument, which the cache cannot
// serve: the floor of any filter that checks arguments); vow
// (filter.Compile of every promise, EPERM, Go runtime baseline, as Pledge
// installs it); linear (filter.CompileLinear of the same rules).
//
// Metrics (the built-in ns/op is suppressed): COND-ns/op, the median over
// the slices; COND/BASE, the median of the ratios of slices run in the
// same turn; COND-insns, the classic-BPF instructions the filter executes
// for the call as the emulator counts them, 0 when the action cache
// serves it. bench/syscallcost.sh runs it with -count and prints the table
// of docs/benchmarks.md.
//
//	go test -run '^$' -bench SyscallCost -benchtime 2000000x -count 10 ./sandbox
func BenchmarkSyscallCost(b *testing.B) {
	if spec := os.Getenv(syscallCostEnv); spec != "" {
		syscallCostChild(spec) // does not return
	}
	if err := SeccompAvailable(); err != nil {
		b.Skipf("seccomp filters are not available in this kernel, nothing to measure: %v", err)
	}
	switch n, err := seccompFilters("/proc/self/status"); {
	case err != nil:
		b.Skipf("cannot tell whether this process already runs under a seccomp filter: %v", err)
	case n != 0:
		b.Skipf("this process already runs under %d seccomp filter(s) (a container or a sandbox?): "+
			"the no-filter baseline cannot be measured and every condition would stack on it", n)
	}
	arch := sysno.Native()
	if arch == nil {
		b.Skip("unsupported architecture: vow supports x86-64 and arm64")
	}
	for _, call := range costCalls {
		b.Run(call.name, func(b *testing.B) {
			b.StopTimer()
			children := make([]*costChild, len(costConditions))
			for i, cond := range costConditions {
				children[i] = startCostChild(b, call.name, cond.name)
			}
			k, n := b.N/costSlices, costSlices
			if k < costMinSlice {
				k, n = b.N, 1
			}
			for _, c := range children {
				c.run(b, min(k, 100000)) // warm-up
			}
			perOp := make([][]float64, len(children)) // [condition][slice]
			b.StartTimer()
			for s := 0; s < n; s++ {
				for j := range children {
					i := (s + j) % len(children)
					perOp[i] = append(perOp[i], children[i].run(b, k)/float64(k))
				}
			}
			b.StopTimer()
			for _, c := range children {
				c.stop(b)
			}

			b.ReportMetric(0, "ns/op")
			for i, cond := range costConditions {
				b.ReportMetric(median(perOp[i]), cond.name+"-ns/op")
				if insns, ok := filterInsns(arch, call, cond); ok {
					b.ReportMetric(float64(insns), cond.name+"-insns")
				}
				for base := range i {
					if !costBaseline[costConditions[base].name] {
						continue
					}
					ratios := make([]float64, n)
					for s := range ratios {
						ratios[s] = perOp[i][s] / perOp[base][s]
					}
					b.ReportMetric(median(ratios), cond.name+"/"+costConditions[base].name)
				}
			}
		})
	}
}

// costBaseline names the conditions the others are divided by.
var costBaseline = map[string]bool{"none": true, "allow-all": true, "allow-uncached": true}

func median(x []float64) float64 {
	x = slices.Clone(x)
	slices.Sort(x)
	if len(x)%2 == 1 {
		return x[len(x)/2]
	}
	return (x[len(x)/2-1] + x[len(x)/2]) / 2
}

// costChild is a measuring process: it reads a number of calls per line
// on fd 3, makes them and writes the nanoseconds they took on fd 4.
type costChild struct {
	name    string
	cmd     *exec.Cmd
	req     *os.File
	resp    *bufio.Reader
	outputs bytes.Buffer
}

func startCostChild(b *testing.B, call, cond string) *costChild {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatalf("cannot find the test binary: %v", err)
	}
	reqR, reqW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	respR, respW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	c := &costChild{name: call + " under " + cond, req: reqW, resp: bufio.NewReader(respR)}
	c.cmd = exec.Command(exe, "-test.run=^$", "-test.bench=^BenchmarkSyscallCost$", "-test.benchtime=1x", "-test.count=1")
	c.cmd.Env = append(os.Environ(), syscallCostEnv+"="+call+"/"+cond)
	c.cmd.ExtraFiles = []*os.File{reqR, respW}
	c.cmd.Stdout, c.cmd.Stderr = &c.outputs, &c.outputs
	err = c.cmd.Start()
	reqR.Close()
	respW.Close()
	if err != nil {
		b.Fatalf("starting the child for %s: %v", c.name, err)
	}
	b.Cleanup(func() {
		c.req.Close()
		respR.Close()
		c.cmd.Wait()
	})
	if line := c.reply(b); line != "ready" {
		b.Fatalf("%s: unexpected reply %q", c.name, line)
	}
	return c
}

// reply reads the child's next line; it skips the benchmark on "skip:"
// and fails it on "error:" or when the child died.
func (c *costChild) reply(b *testing.B) string {
	b.Helper()
	line, err := c.resp.ReadString('\n')
	line = strings.TrimSuffix(line, "\n")
	if reason, ok := strings.CutPrefix(line, "skip: "); ok {
		b.Skip(reason)
	}
	if msg, ok := strings.CutPrefix(line, "error: "); ok {
		b.Fatalf("%s: %s", c.name, msg)
	}
	if err != nil {
		c.cmd.Wait()
		b.Fatalf("%s: the child stopped answering (%v, %v)\n%.2000s", c.name, err, c.cmd.ProcessState, c.outputs.String())
	}
	return line
}

// run makes the child run k calls and returns the nanoseconds they took.
func (c *costChild) run(b *testing.B, k int) float64 {
	b.Helper()
	if _, err := fmt.Fprintln(c.req, k); err != nil {
		b.Fatalf("%s: %v", c.name, err)
	}
	line := c.reply(b)
	ns, err := strconv.ParseFloat(line, 64)
	if err != nil {
		b.Fatalf("%s: bad reply %q", c.name, line)
	}
	return ns
}

// stop ends the child (end of input) and waits for it.
func (c *costChild) stop(b *testing.B) {
	b.Helper()
	c.req.Close()
	if err := c.cmd.Wait(); err != nil {
		b.Fatalf("%s: %v\n%.2000s", c.name, err, c.outputs.String())
	}
}

// syscallCostChild is the re-executed test binary: it installs the
// condition's filter, checks the kernel took it and the call succeeds,
// then times loops as asked (see costChild).
func syscallCostChild(spec string) {
	req, resp := os.NewFile(3, "requests"), os.NewFile(4, "responses")
	fail := func(kind, format string, args ...any) {
		fmt.Fprintf(resp, kind+": "+format+"\n", args...)
		os.Exit(0)
	}
	callName, condName, _ := strings.Cut(spec, "/")
	ci := slices.IndexFunc(costCalls, func(c costCall) bool { return c.name == callName })
	ki := slices.IndexFunc(costConditions, func(c costCondition) bool { return c.name == condName })
	if ci < 0 || ki < 0 {
		fail("error", "unknown call or condition in %s=%q", syscallCostEnv, spec)
	}
	call, cond := costCalls[ci], costConditions[ki]
	nr, ok := sysno.Native().Number(call.name)
	if !ok {
		fail("skip", "no system call %s on this architecture", call.name)
	}
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		fail("error", "open /dev/null: %v", err)
	}
	a0, a1 := call.args(uintptr(fd))

	runtime.LockOSThread() // every loop runs on this thread
	want := 0
	if cond.prog != nil {
		prog, err := cond.prog(uint32(os.Getpid()))
		if err != nil {
			fail("error", "compiling the %s filter: %v", cond.name, err)
		}
		if err := installFilter(prog, unix.SECCOMP_FILTER_FLAG_TSYNC); err != nil {
			fail("skip", "cannot install a seccomp filter here: %v", err)
		}
		want = 1
	}
	if got, err := seccompFilters("/proc/thread-self/status"); err != nil || got != want {
		fail("error", "the measuring thread has %d seccomp filters, want %d (%v)", got, want, err)
	}
	if _, _, e := unix.RawSyscall(uintptr(nr), a0, a1, 0); e != 0 {
		fail("error", "%s fails under the %s filter: %v", call.name, cond.name, e)
	}
	fmt.Fprintln(resp, "ready")
	in := bufio.NewScanner(req)
	for in.Scan() {
		k, err := strconv.Atoi(in.Text())
		if err != nil || k < 1 {
			fail("error", "bad request %q", in.Text())
		}
		start := time.Now()
		for i := 0; i < k; i++ {
			unix.RawSyscall(uintptr(nr), a0, a1, 0)
		}
		fmt.Fprintln(resp, time.Since(start).Nanoseconds())
	}
	os.Exit(0)
}

// seccompFilters reads Seccomp_filters from a /proc status file.
func seccompFilters(status string) (int, error) {
	f, err := os.Open(status)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Seccomp_filters:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("no Seccomp_filters line in %s (kernel older than 5.9?)", status)
}

// filterInsns returns how many classic-BPF instructions the condition's
// filter executes for the measured call, as the emulator counts them: 0
// when the kernel's action cache serves the call.
func filterInsns(a *sysno.Arch, call costCall, cond costCondition) (int, bool) {
	if cond.prog == nil {
		return 0, false
	}
	prog, err := cond.prog(4242)
	if err != nil {
		return 0, false
	}
	nr, _ := a.Number(call.name)
	if kernelCacheAllows(prog, nr, a.Audit) {
		return 0, true
	}
	d := filter.Data{Nr: nr, Arch: a.Audit}
	a0, a1 := call.args(3)
	d.Args[0], d.Args[1] = uint64(a0), uint64(a1)
	_, st, err := bpf.Run(prog, d.Bytes())
	if err != nil {
		return 0, false
	}
	return st.Executed, true
}

// kernelCacheAllows is the kernel's seccomp_is_const_allow
// (kernel/seccomp.c, Linux ≥ 5.11), which decides when a filter is
// attached whether its action cache may allow number nr without running
// the filter: it follows the program with only the number and the
// architecture known and gives up on any other load or on an instruction
// it does not model. (The kernel also always allows uretprobe/uprobe;
// that exception does not matter here.)
func kernelCacheAllows(prog []unix.SockFilter, nr, arch uint32) bool {
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			switch in.K {
			case 0:
				a = nr
			case 4:
				a = arch
			default:
				return false // not a constant
			}
		case unix.BPF_RET | unix.BPF_K:
			return in.K == unix.SECCOMP_RET_ALLOW
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			var taken bool
			switch in.Code &^ (unix.BPF_JMP | unix.BPF_K) {
			case unix.BPF_JEQ:
				taken = a == in.K
			case unix.BPF_JGE:
				taken = a >= in.K
			case unix.BPF_JGT:
				taken = a > in.K
			case unix.BPF_JSET:
				taken = a&in.K != 0
			}
			if taken {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			a &= in.K
		default:
			return false // an instruction the kernel's check does not model
		}
	}
	return false
}

// TestSyscallCostActionCache checks, without timing anything, what
// BenchmarkSyscallCost relies on: with the kernel's own algorithm
// (kernelCacheAllows), the action cache serves getppid under the
// measured vow filter and its linear twin, cannot serve fcntl (argument
// checked: the filter runs), and serves exactly the numbers
// filter.Measure counts as cacheable — so that metric, computed from the
// emulator's loads, is what the kernel does, on both architectures.
func TestSyscallCostActionCache(t *testing.T) {
	for _, a := range sysno.All {
		for _, layout := range []struct {
			name    string
			compile func(*filter.Policy) (*bpf.Program, error)
		}{{"vow", filter.Compile}, {"linear", filter.CompileLinear}} {
			t.Run(a.Name+"/"+layout.name, func(t *testing.T) {
				pol := costPolicy(4242)
				pol.Arch = a
				prog, err := layout.compile(pol)
				if err != nil {
					t.Fatal(err)
				}
				for call, want := range map[string]bool{"getppid": true, "getpid": true, "futex": true, "fcntl": false, "openat": false} {
					nr, ok := a.Number(call)
					if !ok {
						t.Fatalf("no %s on %s", call, a)
					}
					if got := kernelCacheAllows(prog.Insns, nr, a.Audit); got != want {
						t.Errorf("the kernel's action cache serves %s: %v, want %v", call, got, want)
					}
				}
				m, err := filter.Measure(pol, prog)
				if err != nil {
					t.Fatal(err)
				}
				cached := 0
				for nr := uint32(0); nr < 1024; nr++ {
					if kernelCacheAllows(prog.Insns, nr, a.Audit) {
						cached++
					}
				}
				if cached != m.Cacheable {
					t.Errorf("the kernel's action cache serves %d numbers, filter.Measure counts %d cacheable", cached, m.Cacheable)
				}
				// Another architecture's numbers are never served (they are killed).
				for _, other := range sysno.All {
					if other != a {
						if nr, _ := other.Number("getppid"); kernelCacheAllows(prog.Insns, nr, other.Audit) {
							t.Errorf("getppid of %s is served", other)
						}
					}
				}
			})
		}
	}
}

// TestKernelCacheAllows checks the port of the kernel's check on small
// programs, including paths that read no argument and still are not
// cacheable because the kernel's check does not model an instruction.
func TestKernelCacheAllows(t *testing.T) {
	const (
		ldNr   = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq    = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret    = unix.BPF_RET | unix.BPF_K
		allow  = unix.SECCOMP_RET_ALLOW
		eperm  = unix.SECCOMP_RET_ERRNO | 1
		getppd = 110 // x86-64
	)
	arch := sysno.AMD64.Audit
	for _, c := range []struct {
		name string
		prog []unix.SockFilter
		nr   uint32
		want bool
	}{
		{"allow-all", allowAll, getppd, true},
		{"allow-uncached", allowUncached, getppd, false},
		{"number test, allowed", []unix.SockFilter{{Code: ldNr}, {Code: jeq, K: getppd, Jf: 1}, {Code: ret, K: allow}, {Code: ret, K: eperm}}, getppd, true},
		{"number test, refused", []unix.SockFilter{{Code: ldNr}, {Code: jeq, K: getppd, Jf: 1}, {Code: ret, K: allow}, {Code: ret, K: eperm}}, 39, false},
		{"JA and AND", []unix.SockFilter{{Code: ldNr}, {Code: unix.BPF_JMP | unix.BPF_JA, K: 1}, {Code: ret, K: eperm},
			{Code: unix.BPF_ALU | unix.BPF_AND | unix.BPF_K, K: 0xf0}, {Code: jeq, K: getppd & 0xf0, Jf: 1}, {Code: ret, K: allow}, {Code: ret, K: eperm}}, getppd, true},
		{"arch test", []unix.SockFilter{{Code: ldNr, K: 4}, {Code: jeq, K: arch, Jf: 1}, {Code: ret, K: allow}, {Code: ret, K: eperm}}, getppd, true},
		{"instruction pointer read", []unix.SockFilter{{Code: ldNr, K: 8}, {Code: ret, K: allow}}, getppd, false},
		{"TAX on the path (not modelled)", []unix.SockFilter{{Code: ldNr}, {Code: unix.BPF_MISC | unix.BPF_TAX}, {Code: ret, K: allow}}, getppd, false},
		{"RET A (not modelled)", []unix.SockFilter{{Code: ldNr}, {Code: unix.BPF_RET | unix.BPF_A}}, allow, false},
	} {
		if err := bpf.ValidateSeccomp(c.prog); err != nil {
			t.Errorf("%s: the kernel would reject the program: %v", c.name, err)
		}
		if got := kernelCacheAllows(c.prog, c.nr, arch); got != c.want {
			t.Errorf("%s: cacheable %v, want %v", c.name, got, c.want)
		}
	}
}
