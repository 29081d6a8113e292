package pledgecli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Penalty modes of pledge.md §4.1, as the command chooses them (§7.4).
const (
	// PenaltyKillProcess (-k): a violation kills the whole process.
	PenaltyKillProcess = 1
	// PenaltyReturnEPERM (default): a violating system call fails with
	// EPERM.
	PenaltyReturnEPERM = 2
)

// APEVersion names the per-user APE loader copies unveiled for an APE PROG
// when /usr/bin/ape is missing ($TMPDIR/.ape-1.10, $HOME/.ape-1.10).
const APEVersion = "1.10"

// Env is what NewPlan reads besides the options: the process environment
// and facts about the machine. HostEnv fills it in; tests build their own.
type Env struct {
	// Environ is the process environment ("KEY=value").
	Environ []string
	// Landlock reports whether Landlock is usable
	// (landlock_create_ruleset(NULL, 0, VERSION) >= 0). Without it nothing
	// is unveiled.
	Landlock bool
	// TTYName is ttyname(0) when stdin is a terminal, else "".
	TTYName string
	// Arch is the architecture in the musl loader names: "x86_64" or
	// "aarch64".
	Arch string
	// DSOPath is the sandbox helper preloaded into a dynamic PROG
	// (pledge.md §7.9), or "" when vow does not use one. When set and PROG
	// is dynamic, it is unveiled "rx" (required) and LD_PRELOAD is set.
	DSOPath string
	// CheckPromises, when set, validates the user's promise text; its
	// error (e.g. `unknown promise 'stdoi' (did you mean 'stdio'?)`)
	// becomes exit 21.
	CheckPromises func(promises string) error
	// Exists reports whether a path exists; nil means os.Stat. It decides
	// whether /usr/bin/ape is there.
	Exists func(path string) bool
}

// HostEnv describes this process and machine.
func HostEnv() Env {
	return Env{
		Environ:  os.Environ(),
		Landlock: LandlockABI() > 0,
		TTYName:  StdinTTYName(),
		Arch:     MuslArch(runtime.GOARCH),
	}
}

// MuslArch maps a GOARCH to the architecture name in musl's loader paths.
func MuslArch(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return goarch
}

// Unveil is one unveil(Path, Perm) the command makes before committing.
type Unveil struct {
	Path, Perm string
	// Required: any failure (even ENOENT) stops the command with exit 20
	// (pledge.com's Unveil). Otherwise ENOENT is skipped silently and any
	// other failure is exit 20 (UnveilIfExists).
	Required bool
}

// Plan is what the command will do once PROG is known: what to exec, with
// which environment, promises, penalty and unveils. NewPlan computes it
// without side effects; the command carries it out.
type Plan struct {
	// Program is PROG resolved and classified.
	Program Program
	// Argv is execve's argv: PROG as typed, then ARGS.
	Argv []string
	// Env is PROG's environment: the process environment without _PLEDGE
	// and LD_PRELOAD, plus LD_PRELOAD=<Env.DSOPath> for a dynamic PROG when
	// a DSO is used. (_PLEDGE=<granted bits>,<mode> for the DSO needs the
	// promise bit table and is added by the caller.)
	Env []string

	// UserPromises is the user's promise text (-p, or DefaultPromises).
	// The automatic unveils and a DSO's granted set come from it.
	UserPromises string
	// Promises is the text to pledge, both as promises and as
	// execpromises (pledge(P, P)): UserPromises plus "exec" if missing,
	// plus "rpath" and "prot_exec" if missing unless PROG is static, in
	// that order (pledge.md §7.3).
	Promises string
	// Penalty is PenaltyKillProcess (-k) or PenaltyReturnEPERM.
	Penalty int
	// Log is true unless -q: violations are reported on stderr (§0.15).
	Log bool

	// Unveil reports whether to unveil at all: no -V and Landlock usable.
	// When true, the command makes the Unveils in order, then commits
	// with unveil(NULL, NULL) (failure: exit 20).
	Unveil  bool
	Unveils []Unveil

	// Warnings are one-line messages to print on stderr before going on
	// (already silenced by -q).
	Warnings []string
}

// NewPlan computes the plan for o in env (pledge.md §7.3, §7.6–7.9). It
// looks PROG up and reads the start of PROG and its interpreters, so call
// it where pledge.com looks PROG up: after chroot, and for a setuid install
// inside WithFSIDs. Errors: PROG not found or not executable (exit 10), a
// promise text CheckPromises rejects (exit 21), promises too long after
// the implicit additions (exit 1).
func NewPlan(o *Options, env Env) (*Plan, error) {
	path, err := LookPath(o.Prog, env.Environ)
	if err != nil {
		msg := fmt.Sprintf("%s: %s: %v", o.Name, o.Prog, err)
		if !strings.Contains(o.Prog, "/") && o.Prog != "" {
			p, ok := getenv(env.Environ, "PATH")
			if !ok {
				p = DefaultPath + " (PATH is unset)"
			}
			msg += " (searched $PATH: " + p + ")"
		}
		return nil, &Error{Code: ExitNotFound, Msg: msg, Err: err}
	}
	p := &Plan{
		Argv:         o.Argv(),
		Env:          ChildEnv(env.Environ),
		UserPromises: o.Promises,
		Penalty:      PenaltyReturnEPERM,
		Log:          !o.Quiet,
	}
	p.Program = ClassifyProgram(path, p.Env)
	if env.CheckPromises != nil {
		if err := env.CheckPromises(o.Promises); err != nil {
			return nil, &Error{Code: ExitBadPromises, Msg: o.Name + ": " + err.Error(), Err: err}
		}
	}
	if o.Kill {
		p.Penalty = PenaltyKillProcess
	}
	promises, ok := EffectivePromises(o.Promises, p.Program.Strategy())
	if !ok {
		return nil, &Error{Code: ExitFailure, Msg: o.Name + ": too many promises (with the implied exec, rpath and prot_exec the text must stay under 256 bytes)"}
	}
	p.Promises = promises
	if env.DSOPath != "" && p.Program.Strategy() == KindDynamic {
		p.Env = append(p.Env, "LD_PRELOAD="+env.DSOPath)
	}
	switch {
	case !o.WantsUnveil():
	case !env.Landlock:
		if !o.Quiet {
			p.Warnings = append(p.Warnings, o.Name+": warning: Landlock is not available in this kernel, so nothing is unveiled (-v and the automatic unveils are not enforced); -V or -q silences this")
		}
	default:
		p.Unveil = true
		p.Unveils = AutoUnveils(o, p.Program, env)
	}
	return p, nil
}

// ChildEnv is environ without the variables the command sets itself
// (_PLEDGE and LD_PRELOAD), as pledge.com does for every PROG.
func ChildEnv(environ []string) []string {
	out := make([]string, 0, len(environ)+2)
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if k == "_PLEDGE" || k == "LD_PRELOAD" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// HasPromise reports whether the promise text names promise, splitting the
// text as pledge() does (runs of space, tab, CR, LF) and comparing names
// case-insensitively.
func HasPromise(text, promise string) bool {
	for _, w := range strings.FieldsFunc(text, isPromiseSep) {
		if strings.EqualFold(w, promise) {
			return true
		}
	}
	return false
}

func isPromiseSep(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }

// EffectivePromises adds the promises the command needs to the user's text
// (pledge.md §7.3): "exec" if missing, then "rpath" and "prot_exec" if
// missing unless strategy is KindStatic, each appended with one space like
// pledge.com's AddPromise. ok is false when the result would reach
// MaxPromiseText bytes (pledge.com: "too many promises", exit 1).
func EffectivePromises(user string, strategy Kind) (promises string, ok bool) {
	var b strings.Builder
	b.WriteString(user)
	add := func(name string) bool {
		if HasPromise(user, name) {
			return true
		}
		return addPromise(&b, name)
	}
	if !add("exec") {
		return "", false
	}
	if strategy != KindStatic {
		if !add("rpath") || !add("prot_exec") {
			return "", false
		}
	}
	return b.String(), true
}

// Paths unveiled for a dynamic PROG (pledge.md §7.6).
var (
	libDirs  = []string{"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib", "/usr/local/lib64"}
	ldConfig = []string{"/etc/ld.so.conf", "/etc/ld.so.cache", "/etc/ld.so.conf.d", "/etc/ld.so.preload"}
)

// Paths unveiled per promise (pledge.md §7.6), in pledge.com's order.
var (
	stdioUnveils = []Unveil{
		{Path: "/dev/fd", Perm: "r"},
		{Path: "/dev/log", Perm: "w"},
		{Path: "/dev/zero", Perm: "r"},
		{Path: "/dev/null", Perm: "rw"},
		{Path: "/dev/full", Perm: "rw"},
		{Path: "/dev/stdin", Perm: "rw"},
		{Path: "/dev/stdout", Perm: "rw"},
		{Path: "/dev/stderr", Perm: "rw"},
		{Path: "/dev/urandom", Perm: "r"},
		{Path: "/etc/localtime", Perm: "r"},
		{Path: "/proc/self/fd", Perm: "rw"},
		{Path: "/proc/self/stat", Perm: "r"},
		{Path: "/proc/self/status", Perm: "r"},
		{Path: "/usr/share/locale", Perm: "r"},
		{Path: "/proc/self/cmdline", Perm: "r"},
		{Path: "/usr/share/zoneinfo", Perm: "r"},
		{Path: "/proc/sys/kernel/version", Perm: "r"},
		{Path: "/usr/share/common-licenses", Perm: "r"},
		{Path: "/proc/sys/kernel/ngroups_max", Perm: "r"},
		{Path: "/proc/sys/kernel/cap_last_cap", Perm: "r"},
		{Path: "/proc/sys/vm/overcommit_memory", Perm: "r"},
	}
	inetUnveils = []Unveil{
		{Path: "/etc/ssl/certs/ca-certificates.crt", Perm: "r"},
	}
	rpathUnveils = []Unveil{
		{Path: "/proc/filesystems", Perm: "r"},
	}
	dnsUnveils = []Unveil{
		{Path: "/etc/hosts", Perm: "r"},
		{Path: "/etc/hostname", Perm: "r"},
		{Path: "/etc/services", Perm: "r"},
		{Path: "/etc/protocols", Perm: "r"},
		{Path: "/etc/resolv.conf", Perm: "r"},
	}
	ttyUnveils = []Unveil{
		{Path: "/dev/tty", Perm: "rw"},
		{Path: "/dev/console", Perm: "rw"},
		{Path: "/etc/terminfo", Perm: "r"},
		{Path: "/usr/lib/terminfo", Perm: "r"},
		{Path: "/usr/share/terminfo", Perm: "r"},
	}
	vminfoUnveils = []Unveil{
		{Path: "/proc/stat", Perm: "r"},
		{Path: "/proc/meminfo", Perm: "r"},
		{Path: "/proc/cpuinfo", Perm: "r"},
		{Path: "/proc/diskstats", Perm: "r"},
		{Path: "/proc/self/maps", Perm: "r"},
		{Path: "/sys/devices/system/cpu", Perm: "r"},
	}
)

// AutoUnveils is the list of unveils the command makes (pledge.md §7.6),
// in order, before the commit: PROG "rx" (required), its interpreters "rx"
// (vow), the loader paths for a dynamic chain, the paths of the user's
// promises (stdio, inet, rpath, dns, tty, vminfo, tmppath — looked up in
// o.Promises, before the implicit additions), the APE loader for an APE
// chain, then the -v options.
func AutoUnveils(o *Options, prog Program, env Env) []Unveil {
	var u []Unveil
	add := func(perm string, paths ...string) {
		for _, p := range paths {
			u = append(u, Unveil{Path: p, Perm: perm})
		}
	}
	u = append(u, Unveil{Path: prog.Path, Perm: "rx", Required: true})
	add("rx", prog.Interpreters()...)
	if prog.Has(KindDynamic) {
		if env.DSOPath != "" {
			u = append(u, Unveil{Path: env.DSOPath, Perm: "rx", Required: true})
		}
		add("rx", libDirs...)
		add("r", "/etc/ld-musl-"+env.Arch+".path")
		add("r", ldConfig...)
		add("rx", "/lib/ld-musl-"+env.Arch+".so.1")
	}
	has := func(name string) bool { return HasPromise(o.Promises, name) }
	if has("stdio") {
		u = append(u, stdioUnveils...)
	}
	if has("inet") {
		u = append(u, inetUnveils...)
	}
	if has("rpath") {
		u = append(u, rpathUnveils...)
	}
	if has("dns") {
		u = append(u, dnsUnveils...)
	}
	if has("tty") {
		if env.TTYName != "" {
			add("rw", env.TTYName)
		}
		u = append(u, ttyUnveils...)
	}
	if prog.Has(KindAPE) {
		exists := env.Exists
		if exists == nil {
			exists = func(p string) bool { _, err := os.Stat(p); return !errors.Is(err, os.ErrNotExist) }
		}
		add("rx", "/usr/bin/ape")
		if !exists("/usr/bin/ape") {
			for _, k := range []string{"TMPDIR", "HOME"} {
				if dir, ok := getenv(env.Environ, k); ok && dir != "" {
					add("rx", filepath.Join(dir, ".ape-"+APEVersion))
				}
			}
		}
	}
	if has("vminfo") {
		u = append(u, vminfoUnveils...)
	}
	if has("tmppath") {
		add("rwc", "/tmp")
		if dir, ok := getenv(env.Environ, "TMPPATH"); ok && dir != "" {
			add("rwc", dir)
		}
	}
	for _, v := range o.Unveils {
		add(v.Perm, v.Path)
	}
	return u
}
