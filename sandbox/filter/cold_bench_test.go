package filter

import (
	"testing"

	"github.com/vow-sandbox/vow/sandbox/promise"
)

// BenchmarkCompileCold compiles as a fresh process does: with the
// per-architecture index and its memo of merged rules not yet made (what
// the pledge command and every launch pay once; the tables the index
// reads are generated data).
func BenchmarkCompileCold(b *testing.B) {
	set, _ := promise.Parse("stdio rpath exec prot_exec")
	for b.Loop() {
		indexes.list = nil
		if _, err := Compile(&Policy{Promises: set, Penalty: ReturnEPERM, Notify: true, PID: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
