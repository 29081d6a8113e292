package pledgecli

import (
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Defaults are the values of the limit flags when they are not given,
// computed on this machine before the options are parsed (pledge.md §7.2,
// §7.8 step 1).
type Defaults struct {
	// Memory is the -M default: total RAM, or 4 GiB when sysinfo failed.
	Memory int64
	// Procs is the -P default: CPUs + processes on the system, or
	// CPUs × 100 when sysinfo failed.
	Procs int64
	// Files is the -O default, 64.
	Files int64
	// FileSize is the -F default, 256000000 (hard limit 384000000).
	FileSize int64

	// CPUs and Running (the number of processes sysinfo reported) explain
	// Procs in the usage; SysinfoOK is false when sysinfo failed.
	CPUs, Running int
	SysinfoOK     bool
}

// Default values that do not depend on the machine.
const (
	DefaultFiles    = 64
	DefaultFileSize = 256 * 1000 * 1000
	// FallbackMemory is the -M default when sysinfo fails.
	FallbackMemory = 4 << 30
)

// SystemDefaults computes the defaults on this machine: sysinfo's total RAM
// and process count, and the number of CPUs this process may run on.
func SystemDefaults() Defaults {
	var si unix.Sysinfo_t
	err := unix.Sysinfo(&si)
	unit := uint64(1)
	if err == nil && si.Unit > 1 {
		unit = uint64(si.Unit)
	}
	return DefaultsFrom(runtime.NumCPU(), err == nil, si.Totalram*unit, int(si.Procs))
}

// DefaultsFrom computes the defaults from a CPU count and sysinfo's total
// RAM and process count, as pledge.com does (ok reports whether sysinfo
// worked; when it did not, totalRAM and procs are ignored).
func DefaultsFrom(cpus int, ok bool, totalRAM uint64, procs int) Defaults {
	d := Defaults{
		Files:     DefaultFiles,
		FileSize:  DefaultFileSize,
		CPUs:      cpus,
		SysinfoOK: ok,
	}
	if ok {
		d.Memory = int64(totalRAM)
		d.Running = procs
		d.Procs = int64(cpus) + int64(procs)
	} else {
		d.Memory = FallbackMemory
		d.Procs = int64(cpus) * 100
	}
	return d
}

// promiseHelp is the promise list of the usage text.
var promiseHelp = [][2]string{
	{"stdio", "allow stdio and benign system calls"},
	{"rpath", "read-only path ops"},
	{"wpath", "write path ops"},
	{"cpath", "create path ops"},
	{"dpath", "create special files"},
	{"chown", "allows file ownership changes"},
	{"flock", "file locks"},
	{"tty", "terminal ioctls"},
	{"recvfd", "allow SCM_RIGHTS"},
	{"sendfd", "allow SCM_RIGHTS"},
	{"fattr", "allow changing some struct stat bits"},
	{"inet", "allow IPv4 and IPv6"},
	{"anet", "allow IPv4 and IPv6 servers (accept only)"},
	{"unix", "allow local sockets"},
	{"id", "allow setuid and friends"},
	{"dns", "allow dns and related files"},
	{"proc", "allow process and thread creation"},
	{"exec", "implied by default"},
	{"prot_exec", "allow creating executable memory"},
	{"settime", "allow setting the clock"},
	{"unveil", "allow PROG to call unveil()"},
	{"vminfo", "allows /proc/stat, /proc/self/maps, etc."},
	{"tmppath", "allows /tmp, $TMPPATH, lstat, unlink"},
	{"error", "fail with EPERM even under -k"},
}

// Usage is the help text, with the defaults of d (the real ones on this
// machine when d comes from SystemDefaults).
func Usage(name string, d Defaults) string {
	var b strings.Builder
	pad := strings.Repeat(" ", len("usage: ")+len(name)+1)
	fmt.Fprintf(&b, "usage: %s [-hVqknDN] [-g GID] [-u UID] [-c PATH] [-v [PERM:]PATH]...\n", name)
	fmt.Fprintf(&b, "%s[-C SECS] [-M BYTES] [-O FILES] [-P PROCS] [-F BYTES]\n", pad)
	fmt.Fprintf(&b, "%s[-T pledge|-T unveil] [-p PLEDGE] PROG ARGS...\n", pad)
	memSrc := "total RAM"
	procSrc := fmt.Sprintf("%d CPUs + %d processes running", d.CPUs, d.Running)
	if !d.SysinfoOK {
		memSrc = "sysinfo() failed"
		procSrc = fmt.Sprintf("%d CPUs x 100, sysinfo() failed", d.CPUs)
	}
	lines := [][2]string{
		{"-h", "show help"},
		{"-g GID", "call setgid() and clear supplementary groups"},
		{"-u UID", "call setuid() and clear supplementary groups"},
		{"-c PATH", "call chroot()"},
		{"-v [PERM:]PATH", "call unveil(PATH, PERM[rwxc]) [default PERM: r]"},
		{"-V", "disable unveiling (only pledge)"},
		{"-q", "disable stderr violation logging"},
		{"-k", "kill process rather than eperm'ing"},
		{"-n", "set maximum niceness"},
		{"-D", "don't drop capabilities"},
		{"-N", "don't normalize file descriptors"},
		{"-C SECS", "set cpu limit [default: inherited]"},
		{"-M BYTES", fmt.Sprintf("set virtual memory limit [default: %s, %s]", formatSize(d.Memory), memSrc)},
		{"-O FILES", fmt.Sprintf("set file descriptor limit [default: %d]", d.Files)},
		{"-P PROCS", fmt.Sprintf("set process limit [default: %d = %s]", d.Procs, procSrc)},
		{"-F BYTES", fmt.Sprintf("set individual file size limit [default: %s, hard limit x1.5]", formatSize(d.FileSize))},
		{"-T pledge", "exits 0 if pledge() is supported by host system"},
		{"-T unveil", "exits 0 if unveil() is supported by host system"},
		{"-p PLEDGE", "may contain any of following separated by spaces"},
	}
	for _, l := range lines {
		fmt.Fprintf(&b, "  %-15s %s\n", l[0], l[1])
	}
	for _, p := range promiseHelp {
		fmt.Fprintf(&b, "     - %s: %s\n", p[0], p[1])
	}
	fmt.Fprintf(&b, "  [default PLEDGE: %q; exec is always added, and rpath and\n", DefaultPromises)
	b.WriteString("   prot_exec too unless PROG is a static executable]\n")
	b.WriteString("\nWithout -v (and tmppath) only the pledge applies: rpath reads any file.\n")
	b.WriteString("With one, the -v paths and what PROG needs to start (PROG, its libraries,\n")
	b.WriteString("each promise's files) are all PROG can see.\n")
	b.WriteString("\nBYTES take a k, m, g, t, p or e suffix (powers of 1024), e.g. 512m or 4gb.\n")
	b.WriteString("Integers may be written in hex (0x1f) or octal (017).\n")
	b.WriteString("\nThis program launches a Linux command in a sandbox inspired by OpenBSD's\n")
	b.WriteString("pledge() and unveil(); it replaces Cosmopolitan's pledge.com.\n")
	return b.String()
}

// formatSize writes n in bytes, with a power-of-1024 reading when it helps,
// e.g. "16777216000 (15.6g)" or "4294967296 (4g)".
func formatSize(n int64) string {
	units := "kmgtpe"
	v := float64(n)
	u := -1
	for u+1 < len(units) && (v >= 1024 || v <= -1024) {
		v /= 1024
		u++
	}
	if u < 0 {
		return fmt.Sprint(n)
	}
	s := fmt.Sprintf("%.1f", v)
	s = strings.TrimSuffix(s, ".0")
	return fmt.Sprintf("%d (%s%c)", n, s, units[u])
}
