// Package sysno maps Linux system call names to numbers for the
// architectures vow supports (x86-64 and arm64), independently of the
// architecture vow itself was built for, so a filter for either can be
// compiled, listed and verified anywhere.
//
// The tables are generated (gen.go) from golang.org/x/sys/unix, which
// takes them from the kernel headers.
package sysno

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

//go:generate go run gen.go

// Arch describes one architecture's system call ABI as seen by seccomp.
type Arch struct {
	// Name is the Go architecture name: "amd64" or "arm64".
	Name string
	// Kernel is the kernel's (uname -m) name: "x86_64" or "aarch64".
	Kernel string
	// Audit is the AUDIT_ARCH_* value in seccomp_data.arch.
	Audit uint32
	// X32Bit is the bit that marks x32 system calls on x86-64 (0 when the
	// architecture has no such ABI).
	X32Bit uint32

	// byNr holds the names indexed by number, "" where there is none; byName
	// holds the numbers sorted by name. Both are generated slices of
	// constants (zsysno.go), laid out by the linker: nothing is built when
	// the package is initialised, which every run of the pledge command
	// would pay.
	byNr   []string
	byName []uint16
}

// AMD64 is x86-64.
var AMD64 = &Arch{
	Name:   "amd64",
	Kernel: "x86_64",
	Audit:  unix.AUDIT_ARCH_X86_64,
	X32Bit: 0x40000000,
	byName: amd64ByName,
	byNr:   amd64ByNr,
}

// ARM64 is aarch64.
var ARM64 = &Arch{
	Name:   "arm64",
	Kernel: "aarch64",
	Audit:  unix.AUDIT_ARCH_AARCH64,
	byName: arm64ByName,
	byNr:   arm64ByNr,
}

// All lists the supported architectures.
var All = []*Arch{AMD64, ARM64}

// Native returns the architecture vow runs on, or nil when it is not
// supported.
func Native() *Arch {
	a, _ := Lookup(runtime.GOARCH)
	return a
}

// Lookup finds an architecture by its Go or kernel name.
func Lookup(name string) (*Arch, error) {
	for _, a := range All {
		if name == a.Name || name == a.Kernel {
			return a, nil
		}
	}
	return nil, fmt.Errorf("unsupported architecture %q (vow supports amd64/x86_64 and arm64/aarch64)", name)
}

// Number returns the number of the named system call; ok is false when the
// call does not exist on this architecture.
func (a *Arch) Number(name string) (nr uint32, ok bool) {
	t := a.byName
	lo, hi := 0, len(t)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a.byNr[t[m]] < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(t) && a.byNr[t[lo]] == name {
		return uint32(t[lo]), true
	}
	return 0, false
}

// SyscallName returns the kernel name of a system call number, or "" when the
// number is not a system call on this architecture.
func (a *Arch) SyscallName(nr uint32) string {
	if uint64(nr) < uint64(len(a.byNr)) {
		return a.byNr[nr]
	}
	return ""
}

// Names returns every system call name of the architecture, sorted by
// number.
func (a *Arch) Names() []string {
	names := make([]string, 0, len(a.byName))
	for _, n := range a.byNr {
		if n != "" {
			names = append(names, n)
		}
	}
	return names
}

// String returns the Go architecture name.
func (a *Arch) String() string { return a.Name }
