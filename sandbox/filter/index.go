package filter

import (
	"sync"

	"github.com/vow-sandbox/vow/sandbox/promise"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

// Sources of entries besides the promises, as bits above the promise bits.
const (
	srcDefault = promise.Count     // promise.Default
	srcRuntime = promise.Count + 1 // promise.Runtime
)

// source is one table entry that exists on an architecture.
type source struct {
	src  promise.Promise // promise bit, or srcDefault / srcRuntime
	rule promise.Rule
}

// archIndex lists, per system call number, the table entries naming it,
// and memoizes the merged rule of each combination of granting sources.
type archIndex struct {
	entries [][]source // by number, below firstUnknown

	mu   sync.Mutex
	memo map[memoKey]merged
}

type memoKey struct {
	nr   uint32
	srcs uint32
}

// merged is the verdict of one number for a set of granting sources.
type merged struct {
	ok   bool         // some call can pass
	rule promise.Rule // nil: any arguments
}

var indexes sync.Map // *sysno.Arch -> *archIndex

func indexFor(a *sysno.Arch) *archIndex {
	if x, ok := indexes.Load(a); ok {
		return x.(*archIndex)
	}
	ix := &archIndex{entries: make([][]source, firstUnknown), memo: map[memoKey]merged{}}
	add := func(src promise.Promise, es []promise.Entry) {
		for _, e := range es {
			if nr, ok := a.Number(e.Syscall); ok && nr < firstUnknown {
				ix.entries[nr] = append(ix.entries[nr], source{src, e.Rule})
			}
		}
	}
	for p := promise.Promise(0); p < promise.Count; p++ {
		add(p, promise.Entries(p))
	}
	add(srcDefault, promise.Default)
	add(srcRuntime, promise.Runtime)
	x, _ := indexes.LoadOrStore(a, ix)
	return x.(*archIndex)
}

// sources returns the bits of the sources a policy grants.
func (p *Policy) sources() uint32 {
	s := uint32(p.Promises&promise.All) | 1<<srcDefault
	if p.Runtime {
		s |= 1 << srcRuntime
	}
	return s
}

// merge returns the merged verdict of number nr for the granted sources.
func (ix *archIndex) merge(nr uint32, granted uint32) (merged, uint32) {
	var srcs uint32
	for _, s := range ix.entries[nr] {
		srcs |= granted & (1 << s.src)
	}
	if srcs == 0 {
		return merged{}, 0
	}
	k := memoKey{nr, srcs}
	ix.mu.Lock()
	m, ok := ix.memo[k]
	ix.mu.Unlock()
	if ok {
		return m, srcs
	}
	var x grant
	for _, s := range ix.entries[nr] {
		if srcs&(1<<s.src) != 0 {
			x.add(s.rule)
		}
	}
	m.rule, m.ok = x.rule()
	ix.mu.Lock()
	ix.memo[k] = m
	ix.mu.Unlock()
	return m, srcs
}

// sourceNames names the sources in bits, for listings.
func sourceNames(bits uint32) []string {
	var names []string
	if bits&(1<<srcDefault) != 0 {
		names = append(names, "default")
	}
	for _, p := range promise.Set(bits & uint32(promise.All)).Promises() {
		names = append(names, p.String())
	}
	if bits&(1<<srcRuntime) != 0 {
		names = append(names, "runtime")
	}
	return names
}
