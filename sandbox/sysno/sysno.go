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
	"sort"

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

	byName map[string]uint32
	byNr   map[uint32]string
}

// AMD64 is x86-64.
var AMD64 = newArch("amd64", "x86_64", unix.AUDIT_ARCH_X86_64, 0x40000000, amd64Names)

// ARM64 is aarch64.
var ARM64 = newArch("arm64", "aarch64", unix.AUDIT_ARCH_AARCH64, 0, arm64Names)

// All lists the supported architectures.
var All = []*Arch{AMD64, ARM64}

func newArch(name, kernel string, audit, x32 uint32, names map[string]uint32) *Arch {
	a := &Arch{Name: name, Kernel: kernel, Audit: audit, X32Bit: x32, byName: names, byNr: make(map[uint32]string, len(names))}
	for n, nr := range names {
		a.byNr[nr] = n
	}
	return a
}

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
	nr, ok = a.byName[name]
	return nr, ok
}

// SyscallName returns the kernel name of a system call number, or "" when the
// number is not a system call on this architecture.
func (a *Arch) SyscallName(nr uint32) string { return a.byNr[nr] }

// Names returns every system call name of the architecture, sorted by
// number.
func (a *Arch) Names() []string {
	names := make([]string, 0, len(a.byName))
	for n := range a.byName {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return a.byName[names[i]] < a.byName[names[j]] })
	return names
}

// String returns the Go architecture name.
func (a *Arch) String() string { return a.Name }
