// Package promise defines vow's pledge promises: their names, sets of
// them, parsing of promise strings, and the one declarative table that says
// which system calls, with which arguments, each promise allows.
//
// The table is data. The filter compiler (package filter), its reference
// evaluator, the listings of `vow bpf` and the violation messages all read
// it; nothing else knows which promise allows what.
package promise

import (
	"errors"
	"fmt"
	"strings"
)

// Promise is one promise; its value is its bit number (pledge.md §2.1),
// which fixes the order of promises in listings and messages.
type Promise uint8

// The promises, in bit order.
const (
	Stdio Promise = iota
	Rpath
	Wpath
	Cpath
	Dpath
	Flock
	Fattr
	Inet
	Unix
	DNS
	Tty
	Recvfd
	Proc
	Exec
	ID
	Unveil
	Sendfd
	Settime
	ProtExec
	Vminfo
	Tmppath
	Chown
	Anet
	// Count is the number of promises.
	Count
)

var names = [Count]string{
	"stdio", "rpath", "wpath", "cpath", "dpath", "flock", "fattr", "inet",
	"unix", "dns", "tty", "recvfd", "proc", "exec", "id", "unveil", "sendfd",
	"settime", "prot_exec", "vminfo", "tmppath", "chown", "anet",
}

// String returns the promise's name.
func (p Promise) String() string {
	if p < Count {
		return names[p]
	}
	return fmt.Sprintf("promise(%d)", uint8(p))
}

// Names returns the names of all promises in bit order.
func Names() []string { return append([]string(nil), names[:]...) }

// Set is a set of promises, plus the Error flag.
type Set uint32

// Error is the flag set by the `error` promise name (OpenBSD's): it selects
// the errno penalty for this pledge whatever the mode says. It is not a
// promise and grants nothing.
const Error Set = 1 << 31

// All holds every promise (not Error).
const All Set = 1<<Count - 1

// Of returns the set holding ps.
func Of(ps ...Promise) Set {
	var s Set
	for _, p := range ps {
		s |= 1 << p
	}
	return s
}

// Has reports whether s holds p.
func (s Set) Has(p Promise) bool { return s&(1<<p) != 0 }

// Promises returns the promises of s in bit order.
func (s Set) Promises() []Promise {
	var ps []Promise
	for p := Promise(0); p < Count; p++ {
		if s.Has(p) {
			ps = append(ps, p)
		}
	}
	return ps
}

// Empty reports whether s grants no promise (the Error flag aside).
func (s Set) Empty() bool { return s&All == 0 }

// String returns the promise names of s separated by spaces, in bit
// order, followed by "error" when the Error flag is set. It parses back to
// the same set.
func (s Set) String() string {
	var parts []string
	for _, p := range s.Promises() {
		parts = append(parts, p.String())
	}
	if s&Error != 0 {
		parts = append(parts, "error")
	}
	return strings.Join(parts, " ")
}

// MaxLen is the longest promise string accepted, in bytes (pledge.md §5.1:
// upstream copies at most 256 bytes including the terminating NUL).
const MaxLen = 255

// ErrInvalid is wrapped by every parse error, so callers can map it to
// EINVAL.
var ErrInvalid = errors.New("invalid promise string")

// UnknownError reports a word that is not a promise.
type UnknownError struct {
	Word string
	// Suggest is the nearest valid promise name, or "".
	Suggest string
	// Hint explains what to use instead of a promise that exists only on
	// OpenBSD, or "".
	Hint string
}

func (e *UnknownError) Error() string {
	msg := fmt.Sprintf("unknown promise %q", e.Word)
	switch {
	case e.Hint != "":
		msg += " (" + e.Hint + ")"
	case e.Suggest != "":
		msg += fmt.Sprintf(" (did you mean %q?)", e.Suggest)
	default:
		msg += " (valid promises: " + strings.Join(names[:], " ") + ")"
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *UnknownError) Unwrap() error { return ErrInvalid }

// openbsdOnly explains the OpenBSD promises that have no Linux
// counterpart (pledge.md §0 item 9, §2.2).
var openbsdOnly = map[string]string{
	"getpw":     `OpenBSD only; on Linux use "rpath" and unveil /etc/passwd and /etc/group with "r"`,
	"ps":        `OpenBSD only; on Linux use "rpath" and unveil /proc with "r"`,
	"route":     `OpenBSD only; no Linux counterpart in pledge (routing sockets are not allowed by any promise)`,
	"wroute":    `OpenBSD only; no Linux counterpart in pledge (routing changes are not allowed by any promise)`,
	"mcast":     `OpenBSD only; multicast socket options are not allowed by any Linux promise`,
	"audio":     `OpenBSD only; on Linux use "rpath wpath" and unveil /dev/snd with "rw"`,
	"video":     `OpenBSD only; on Linux use "rpath wpath" and unveil /dev/video* with "rw"`,
	"bpf":       `OpenBSD only; the bpf syscall is not allowed by any Linux promise`,
	"pf":        `OpenBSD only; no Linux counterpart`,
	"vmm":       `OpenBSD only; on Linux use "rpath wpath" and unveil /dev/kvm with "rw"`,
	"drm":       `OpenBSD only; on Linux use "rpath wpath" and unveil /dev/dri with "rw"`,
	"disklabel": `OpenBSD only; no Linux counterpart`,
	"tape":      `OpenBSD only; on Linux use "rpath wpath" and unveil the tape device with "rw"`,
	"thread":    `old Cosmopolitan name; thread creation is part of "stdio" now`,
	"execnative": `old Cosmopolitan name; use "exec" (and "prot_exec" for ` +
		`dynamic programs)`,
}

// Parse parses a promise string: names separated by spaces, tabs, CR or
// LF, matched case-insensitively; repeats are fine and the empty string is
// the empty set. `error` sets the Error flag. Any other unknown word is an
// *UnknownError that suggests the nearest valid name.
func Parse(s string) (Set, error) {
	if len(s) > MaxLen {
		return 0, fmt.Errorf("%w: promise string is %d bytes, at most %d are allowed", ErrInvalid, len(s), MaxLen)
	}
	var set Set
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }) {
		lw := strings.ToLower(w)
		if lw == "error" {
			set |= Error
			continue
		}
		p, ok := Lookup(lw)
		if !ok {
			return 0, &UnknownError{Word: w, Suggest: Suggest(lw), Hint: openbsdOnly[lw]}
		}
		set |= Of(p)
	}
	return set, nil
}

// MustParse is Parse for promise strings known to be valid; it panics on
// an error.
func MustParse(s string) Set {
	set, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return set
}

// Lookup finds a promise by its exact (lower-case) name.
func Lookup(name string) (Promise, bool) {
	for i, n := range names {
		if n == name {
			return Promise(i), true
		}
	}
	return 0, false
}

// Suggest returns the valid promise name nearest to word, or "" when none
// is near enough to be a likely typo.
func Suggest(word string) string {
	word = strings.ToLower(word)
	best, bestD := "", 1<<30
	for _, n := range names {
		d := distance(word, n)
		if strings.HasPrefix(n, word) && len(word) >= 2 {
			d = 1
		}
		if d < bestD {
			best, bestD = n, d
		}
	}
	limit := 2
	if len(word) <= 3 {
		limit = 1
	}
	if bestD > limit {
		return ""
	}
	return best
}

// distance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of neighbours cost 1.
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// ExecPromises computes the promises a program gets after exec, following
// pledge.md §5.3: when promises grant exec, exec is added to execpromises,
// and execpromises wider than promises are an error if given (nil means
// "not given": the program then runs with promises). When promises do not
// grant exec no check is made (exec is impossible anyway).
func ExecPromises(promises Set, execpromises *Set) (Set, error) {
	if execpromises == nil {
		return promises, nil
	}
	ex := *execpromises
	if !promises.Has(Exec) {
		return ex, nil
	}
	ex |= Of(Exec)
	if extra := ex &^ promises & All; extra != 0 {
		return 0, fmt.Errorf("%w: execpromises %q are not a subset of promises %q (extra: %s); seccomp filters can only narrow at exec",
			ErrInvalid, ex.String(), promises.String(), extra.String())
	}
	return ex, nil
}
