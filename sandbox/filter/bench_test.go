package filter

import (
	"fmt"
	"testing"

	"github.com/vow-sandbox/vow/sandbox/bpf"

	"github.com/vow-sandbox/vow/sandbox/promise"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

// benchSets are the promise sets of the cost report.
var benchSets = []struct{ name, promises string }{
	{"stdio", "stdio"},
	{"stdio_rpath", "stdio rpath"},
	{"server", "stdio rpath wpath cpath inet dns proc exec"},
	{"all", promise.All.String()},
}

// BenchmarkCost reports, for each benchmark set and layout, the program
// length and the instructions executed per call (max and mean over every
// number; max and mean over the argument-checked calls and their rule
// variations). Run: go test -run '^$' -bench Cost ./sandbox/filter
func BenchmarkCost(b *testing.B) {
	for _, a := range sysno.All {
		for _, s := range benchSets {
			for _, layout := range []struct {
				name    string
				compile func(*Policy) (*bpf.Program, error)
			}{{"search", Compile}, {"linear", CompileLinear}} {
				b.Run(fmt.Sprintf("%s/%s/%s", a, s.name, layout.name), func(b *testing.B) {
					p := &Policy{Arch: a, Promises: promise.MustParse(s.promises), Penalty: ReturnEPERM, PID: 4242}
					prog, err := layout.compile(p)
					if err != nil {
						b.Fatal(err)
					}
					var m Metrics
					for i := 0; i < b.N; i++ {
						if m, err = Measure(p, prog); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(m.Len), "insns")
					b.ReportMetric(float64(m.Max), "max-executed")
					b.ReportMetric(m.Mean, "mean-executed")
					b.ReportMetric(float64(m.MaxChecked), "max-checked")
					b.ReportMetric(m.MeanChecked, "mean-checked")
					b.ReportMetric(float64(m.Cacheable), "cacheable")
				})
			}
		}
	}
}

// BenchmarkCompile measures compiling a pledge (target: all promises in
// under 50 µs).
func BenchmarkCompile(b *testing.B) {
	for _, s := range benchSets {
		b.Run(s.name, func(b *testing.B) {
			p := &Policy{Arch: sysno.AMD64, Promises: promise.MustParse(s.promises), Penalty: ReturnEPERM, PID: 4242}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Compile(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
