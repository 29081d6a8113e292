package filter

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/vow-sandbox/vow/sandbox/promise"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

//go:generate go test -run ^TestTables$ -update

// Sources of entries besides the promises, as bits above the promise bits,
// and the number of sources.
const (
	srcDefault = promise.Count     // promise.Default
	srcRuntime = promise.Count + 1 // promise.Runtime
	nSources   = promise.Count + 2
)

// entries returns the table entries of a source.
func entries(src promise.Promise) []promise.Entry {
	switch src {
	case srcDefault:
		return promise.Default
	case srcRuntime:
		return promise.Runtime
	}
	return promise.Entries(src)
}

// archTable is the promise table as one architecture sees it. The tables
// of the supported architectures are generated (ztables.go): data laid
// out by the linker, which a fresh process reads without building
// anything or touching new heap pages.
type archTable struct {
	audit string               // the comment of the architecture check
	nrs   [firstUnknown]naming // by system call number
	rules []ruleRef            // the entries with an argument rule, in table order
}

// naming is what the table says about one number, as source bits, and
// what the pre-filter says.
type naming struct {
	all    uint32 // the sources with an entry for the number
	free   uint32 // the sources whose entry allows any arguments
	forced forced
}

// forced is a verdict of the pre-filter.
type forced uint8

const (
	forcedNot       forced = iota
	forcedENOSYS           // one of enosysCalls
	forcedExitGroup        // exit_group: EPERM with empty promises
)

// ruleRef is a table entry with an argument rule.
type ruleRef struct {
	nr    uint16
	src   promise.Promise // promise bit, or srcDefault / srcRuntime
	entry uint16          // the index in entries(src)
	name  string          // the entry's system call
}

func (r ruleRef) rule() promise.Rule { return entries(r.src)[r.entry].Rule }

// buildTable makes a's table from the promise table (for ztables.go, and
// in place of a generated table that is stale).
func buildTable(a *sysno.Arch) *archTable {
	t := &archTable{audit: "AUDIT_ARCH_" + strings.ToUpper(a.Kernel)}
	for src := promise.Promise(0); src < nSources; src++ {
		for i, e := range entries(src) {
			nr, ok := a.Number(e.Syscall)
			if !ok || nr >= firstUnknown {
				continue
			}
			n := &t.nrs[nr]
			n.all |= 1 << src
			if e.Rule == nil {
				n.free |= 1 << src
			} else {
				t.rules = append(t.rules, ruleRef{uint16(nr), src, uint16(i), e.Syscall})
			}
		}
	}
	if nr, ok := a.Number("exit_group"); ok && nr < firstUnknown {
		t.nrs[nr].forced = forcedExitGroup
	}
	for _, n := range enosysCalls {
		if nr, ok := a.Number(n); ok && nr < firstUnknown {
			t.nrs[nr].forced = forcedENOSYS
		}
	}
	return t
}

// current reports whether a generated table still fits the promise table:
// every source has as many entries as when it was generated, and every
// rule is where the table says, for the system call it says (comparing
// names, not looking them up). TestTables checks the rest.
func (t *archTable) current() bool {
	for src := promise.Promise(0); src < nSources; src++ {
		if len(entries(src)) != int(tableLens[src]) {
			return false
		}
	}
	for _, r := range t.rules {
		es := entries(r.src)
		if int(r.entry) >= len(es) || es[r.entry].Rule == nil || es[r.entry].Syscall != r.name {
			return false
		}
	}
	return true
}

// tableFor returns a's generated table, or builds it when there is none
// or it is stale.
func tableFor(a *sysno.Arch) *archTable {
	for _, g := range generatedTables {
		if g.arch == a.Name && g.table.current() {
			return g.table
		}
	}
	return buildTable(a)
}

// archIndex is an architecture's table with a memo of the merged rules
// computed so far.
type archIndex struct {
	*archTable
	arch *sysno.Arch

	mu   sync.Mutex
	memo []memoEntry // sorted by key
}

type memoEntry struct {
	key uint64 // number << 32 | granting sources
	m   merged
}

func byKey(e memoEntry, k uint64) int { return cmp.Compare(e.key, k) }

// merged is the verdict of one number for a set of granting sources.
type merged struct {
	ok   bool         // some call can pass
	rule promise.Rule // nil: any arguments
}

// indexes holds the index of each architecture used so far.
var indexes struct {
	sync.Mutex
	list []*archIndex
}

func indexFor(a *sysno.Arch) *archIndex {
	indexes.Lock()
	defer indexes.Unlock()
	for _, ix := range indexes.list {
		if ix.arch == a {
			return ix
		}
	}
	ix := &archIndex{archTable: tableFor(a), arch: a}
	indexes.list = append(indexes.list, ix)
	return ix
}

// sources returns the bits of the sources a policy grants.
func (p *Policy) sources() uint32 {
	s := uint32(p.Promises&promise.All) | 1<<srcDefault
	if p.Runtime {
		s |= 1 << srcRuntime
	}
	return s
}

// merge returns the merged verdict of number nr for the granted sources,
// and the sources granting it.
func (ix *archIndex) merge(nr uint32, granted uint32) (merged, uint32) {
	n := &ix.nrs[nr]
	srcs := granted & n.all
	switch {
	case srcs == 0:
		return merged{}, 0
	case srcs&n.free != 0:
		return merged{ok: true}, srcs
	}
	// Every granting entry has a rule: merge them, once.
	k := uint64(nr)<<32 | uint64(srcs)
	ix.mu.Lock()
	i, ok := slices.BinarySearchFunc(ix.memo, k, byKey)
	var m merged
	if ok {
		m = ix.memo[i].m
	}
	ix.mu.Unlock()
	if ok {
		return m, srcs
	}
	var rbuf [4]promise.Rule // on the stack for up to 4 of each
	var obuf [4]promise.Open
	rules, opens := rbuf[:0], obuf[:0]
	for _, r := range ix.rules {
		if uint32(r.nr) != nr || srcs&(1<<r.src) == 0 {
			continue
		}
		switch rule := r.rule().(type) {
		case promise.Open:
			opens = append(opens, rule)
		default:
			rules = append(rules, rule)
		}
	}
	m.rule, m.ok = mergeRules(rules, opens)
	ix.mu.Lock()
	if i, ok := slices.BinarySearchFunc(ix.memo, k, byKey); !ok {
		if ix.memo == nil {
			ix.memo = make([]memoEntry, 0, 32) // a compile memoizes about 15
		}
		ix.memo = slices.Insert(ix.memo, i, memoEntry{k, m})
	}
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
