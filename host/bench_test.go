package host

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Benchmarks of issue 6; bench/plugins.sh runs them and docs/benchmarks.md
// has the numbers. VOW_HOST_BENCH_WORKER names another worker binary (the
// script uses examples/plugind, a program like the ones users write); the
// default is this test binary.

func benchExe() string {
	if exe := os.Getenv("VOW_HOST_BENCH_WORKER"); exe != "" {
		return exe
	}
	return testExe
}

// reportLatency adds median and p99 metrics of the samples.
func reportLatency(b *testing.B, samples []time.Duration, unit time.Duration, name string) {
	if len(samples) == 0 {
		return
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	med := samples[len(samples)/2]
	p99 := samples[min(len(samples)-1, len(samples)*99/100)]
	b.ReportMetric(float64(med)/float64(unit), name+"-median")
	b.ReportMetric(float64(p99)/float64(unit), name+"-p99")
}

// BenchmarkRunColdStart is vow.run("return 1") from Lua: start a child,
// limit, unveil and pledge it, run the chunk, get the result, reap it.
func BenchmarkRunColdStart(b *testing.B) {
	L := lua.NewState()
	defer L.Close()
	OpenVow(L, &VowOptions{Executable: benchExe()})
	run := L.GetField(L.GetGlobal("vow"), "run")
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := L.CallByParam(lua.P{Fn: run, NRet: 2, Protect: true}, lua.LString("return 1")); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(start))
		if L.Get(-2) != lua.LTrue || L.Get(-1) != lua.LNumber(1) {
			b.Fatalf("vow.run returned %v, %v", L.Get(-2), L.Get(-1))
		}
		L.Pop(2)
	}
	b.StopTimer()
	reportLatency(b, samples, time.Millisecond, "ms")
}

const benchPlugin = `function add(a, b) return a + b end`

// BenchmarkPoolCall is one call with small arguments to one worker and
// its answer.
func BenchmarkPoolCall(b *testing.B) {
	p, err := NewPool(Config{Script: benchPlugin, Executable: benchExe()})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	samples := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		out, err := p.Call(ctx, "add", i, 1)
		samples = append(samples, time.Since(start))
		if err != nil || out[0] != float64(i+1) {
			b.Fatal(out, err)
		}
	}
	b.StopTimer()
	reportLatency(b, samples, time.Microsecond, "µs")
}

// BenchmarkPoolThroughput keeps two workers busy from four goroutines.
func BenchmarkPoolThroughput(b *testing.B) {
	p, err := NewPool(Config{Script: benchPlugin, Workers: 2, Executable: benchExe()})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	b.SetParallelism(2) // 2 × GOMAXPROCS goroutines
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Call(ctx, "add", 1, 2); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// BenchmarkIdleWorkerRSS reports the resident memory of a worker that has
// loaded a small plugin and answered one call.
func BenchmarkIdleWorkerRSS(b *testing.B) {
	var total float64
	for i := 0; i < b.N; i++ {
		p, err := NewPool(Config{Script: benchPlugin, Executable: benchExe()})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Call(context.Background(), "add", 1, 2); err != nil {
			b.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		kb, err := rssKB(p.Stats().PIDs[0])
		p.Close()
		if err != nil {
			b.Fatal(err)
		}
		total += kb
	}
	b.ReportMetric(total/float64(b.N)/1024, "MB-RSS")
}

func rssKB(pid int) (float64, error) {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(st), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}
