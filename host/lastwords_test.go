package host

import "testing"

// Crash outputs as the Go 1.26 runtime writes them to
// debug.SetCrashOutput (shortened).
const (
	crashSysMap = `
runtime stack:
runtime.throw({0x680c18?, 0x281d?})
	/usr/local/go/src/runtime/panic.go:1229 +0x48 fp=0x7ffe03298da0 sp=0x7ffe03298d70 pc=0x487bc8
runtime.sysMapOS(0x2075fe000000, 0x800000, {0x678cd4, 0x4})
	/usr/local/go/src/runtime/mem_linux.go:175 +0x8b fp=0x7ffe03298de0 sp=0x7ffe03298da0 pc=0x42b5ab
runtime.sysMap(0x2075fe000000, 0x800000, 0x0?, {0x678cd4, 0x4})
`
	crashArena = `
runtime stack:
runtime.throw({0x689068?, 0x4000000?})
	/usr/local/go/src/runtime/panic.go:1229 +0x48 fp=0x7ffe03298da0 sp=0x7ffe03298d70 pc=0x487bc8
runtime.(*mheap).sysAlloc(0x88ba80, 0x46a00000?, 0x89bc88, 0x89bcb0)
	/usr/local/go/src/runtime/malloc.go:884 +0x4e5 fp=0x7ffe0be0e0a0 sp=0x7ffe0be0e008 pc=0x413fa5
`
	crashGC = `SIGSEGV: segmentation violation
PC=0x4332dd m=5 sigcode=1 addr=0x0

goroutine 0 gp=0x225b23e3c5a0 m=5 mp=0x225b23ff2008 [idle]:
runtime.(*spanQueue).tryDrain(0x225b00000400?, 0x433be6?, 0x23b4a000?)
	/usr/local/go/src/runtime/mgcmark_greenteagc.go:520 +0x5d fp=0x225b23bdfdf0 sp=0x225b23bdfdd0 pc=0x4332dd
`
	crashDeadlock = `
runtime stack:
runtime.throw({0x67b2a3?, 0x0?})
	/usr/local/go/src/runtime/panic.go:1229 +0x48 fp=0x7ffe03298da0 sp=0x7ffe03298d70 pc=0x487bc8
runtime.checkdead.func1()
	/usr/local/go/src/runtime/proc.go:6213 +0x2b fp=0x7ffe03298dc8 sp=0x7ffe03298da0 pc=0x45e4cb
`
	crashPanic = `panic: assignment to entry in nil map

goroutine 1 gp=0xc000002380 m=0 mp=0x88b6e0 [running]:
main.main()
`
)

func TestLastWords(t *testing.T) {
	tests := []struct {
		name                string
		out                 string
		cpu, oom, inRuntime bool
		crash               string
	}{
		{"nothing", "", false, false, false, ""},
		{"cpu", cpuLimitLine, true, false, false, "vow-worker: CPU time limit exceeded"},
		{"sysMap", crashSysMap, false, true, true, "the Go runtime threw an error in runtime.sysMapOS"},
		{"arena", crashArena, false, true, true, "the Go runtime threw an error in runtime.(*mheap).sysAlloc"},
		{"GC crash", crashGC, false, false, true, "the Go runtime crashed: SIGSEGV: segmentation violation"},
		{"deadlock", crashDeadlock, false, false, true, "the Go runtime threw an error in runtime.checkdead.func1"},
		{"panic", crashPanic, false, false, false, "panic: assignment to entry in nil map"},
		{"message", "fatal error: out of memory\n", false, true, false, "fatal error: out of memory"},
	}
	for _, tt := range tests {
		cpu, oom, inRuntime, crash := lastWords([]byte(startedLine + tt.out))
		if cpu != tt.cpu || oom != tt.oom || inRuntime != tt.inRuntime || crash != tt.crash {
			t.Errorf("%s: got %v %v %v %q, want %v %v %v %q", tt.name, cpu, oom, inRuntime, crash, tt.cpu, tt.oom, tt.inRuntime, tt.crash)
		}
	}
}
