package filter

import (
	"fmt"
	"math/rand"

	"github.com/vow-sandbox/vow/sandbox/bpf"
)

// Metrics is what running a program over every system call costs, as
// counted by the emulator.
type Metrics struct {
	// Len is the program length in instructions.
	Len int
	// Max is the most instructions any call executes.
	Max int
	// Mean is the mean over every number below 447 (each once, with
	// all-zero arguments).
	Mean float64
	// MaxChecked and MeanChecked cover the calls with argument rules,
	// over the rules' allowed and forbidden argument variations.
	MaxChecked  int
	MeanChecked float64
	// Cacheable counts the numbers allowed without reading arguments,
	// which the kernel's action cache serves without running the filter.
	Cacheable int
}

// Measure runs prog, compiled from p, on every system call number and on
// the argument variations of every argument rule, and reports the cost.
func Measure(p *Policy, prog *bpf.Program) (Metrics, error) {
	a, err := p.arch()
	if err != nil {
		return Metrics{}, err
	}
	vs, _, err := p.plan(a)
	if err != nil {
		return Metrics{}, err
	}
	m := Metrics{Len: len(prog.Insns)}
	r := rand.New(rand.NewSource(1))
	var sum, sumChecked, nChecked int
	for nr := range vs {
		d := &Data{Nr: uint32(nr), Arch: a.Audit}
		ret, st, err := bpf.Run(prog.Insns, d.Bytes())
		if err != nil {
			return m, fmt.Errorf("filter: running nr %d: %w", nr, err)
		}
		sum += st.Executed
		m.Max = max(m.Max, st.Executed)
		if ret == retAllow && !st.Loaded(8, 56) {
			m.Cacheable++
		}
		if !vs[nr].check {
			continue
		}
		for _, args := range probes(a.SyscallName(uint32(nr)), p.pid(), r) {
			d.Args = args
			_, st, err := bpf.Run(prog.Insns, d.Bytes())
			if err != nil {
				return m, fmt.Errorf("filter: running nr %d: %w", nr, err)
			}
			sumChecked += st.Executed
			nChecked++
			m.MaxChecked = max(m.MaxChecked, st.Executed)
		}
	}
	m.Max = max(m.Max, m.MaxChecked)
	m.Mean = float64(sum) / float64(len(vs))
	if nChecked > 0 {
		m.MeanChecked = float64(sumChecked) / float64(nChecked)
	}
	return m, nil
}
