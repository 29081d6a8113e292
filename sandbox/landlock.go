package sandbox

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Landlock filesystem rights granted by each unveil permission letter.
// These are vow's choices (spec §0 items 11 and 12), wider than upstream's:
// c also removes, w also truncates single files and runs device ioctls.
const (
	rightsR = unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR |
		unix.LANDLOCK_ACCESS_FS_REFER
	rightsW = unix.LANDLOCK_ACCESS_FS_WRITE_FILE | unix.LANDLOCK_ACCESS_FS_TRUNCATE |
		unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
	rightsX = unix.LANDLOCK_ACCESS_FS_EXECUTE
	rightsC = unix.LANDLOCK_ACCESS_FS_MAKE_CHAR | unix.LANDLOCK_ACCESS_FS_MAKE_DIR |
		unix.LANDLOCK_ACCESS_FS_MAKE_REG | unix.LANDLOCK_ACCESS_FS_MAKE_SOCK |
		unix.LANDLOCK_ACCESS_FS_MAKE_FIFO | unix.LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		unix.LANDLOCK_ACCESS_FS_MAKE_SYM |
		unix.LANDLOCK_ACCESS_FS_REMOVE_FILE | unix.LANDLOCK_ACCESS_FS_REMOVE_DIR

	// rightsAll is what a ruleset handles (before grading to the ABI):
	// everything the letters can grant, so the remove rights are always
	// handled and nothing can be deleted outside a c-unveiled tree.
	rightsAll = rightsR | rightsW | rightsX | rightsC

	// rightsFile are the rights Landlock accepts in a rule on a file
	// (anything but a directory); the others only make sense on
	// directories and the kernel refuses them there.
	rightsFile = unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_WRITE_FILE |
		unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_TRUNCATE |
		unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
)

// fsRightsSince lists the filesystem rights each Landlock ABI version
// introduced. A kernel with ABI n knows the rights of every row with
// abi <= n; rights it does not know are left out of rulesets and rules.
var fsRightsSince = []struct {
	abi    int
	rights uint64
}{
	{1, 1<<13 - 1}, // EXECUTE .. MAKE_SYM
	{2, unix.LANDLOCK_ACCESS_FS_REFER},
	{3, unix.LANDLOCK_ACCESS_FS_TRUNCATE},
	{5, unix.LANDLOCK_ACCESS_FS_IOCTL_DEV},
}

// knownFSRights returns the filesystem rights a kernel with the given
// Landlock ABI version understands.
func knownFSRights(abi int) uint64 {
	var known uint64
	for _, v := range fsRightsSince {
		if abi >= v.abi {
			known |= v.rights
		}
	}
	return known
}

// abiTSync is the first Landlock ABI with LANDLOCK_RESTRICT_SELF_TSYNC.
const abiTSync = 8

// maxLayers is how many Landlock rulesets can be stacked on one thread.
const maxLayers = 16

// maxLinks is how many symbolic links Add follows in a chain (upstream's
// limit) before it gives up with ELOOP.
const maxLinks = 64

// landlockProbe asks the kernel for its Landlock ABI version, once. It is
// a variable so tests can pretend Landlock is missing.
var landlockProbe = sync.OnceValues(func() (int, error) {
	r, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
})

// LandlockABI returns the Landlock ABI version of the running kernel (1
// for Linux 5.13, 7 for Linux 6.15, …), or 0 when unveil cannot restrict
// anything: Landlock is not built in, disabled at boot, or its system calls
// are refused by a seccomp filter. The kernel is asked once per process.
func LandlockABI() int {
	abi, err := landlockProbe()
	if err != nil {
		return 0
	}
	return abi
}

// UnveilOptions changes how unveil behaves when the kernel cannot enforce
// it.
type UnveilOptions struct {
	// Strict makes unveil fail when Landlock is not available (kernels
	// before 5.13, or Landlock disabled at boot) instead of succeeding and
	// restricting nothing, which is the default (as upstream).
	Strict bool
}

// landlockUnavailable explains a failed ABI probe. absent reports the
// errnos that mean "no Landlock here" (upstream turns them into success);
// any other errno is a real failure.
func landlockUnavailable(err error) (msg string, absent bool) {
	switch {
	case errors.Is(err, unix.ENOSYS):
		return "Landlock is not available in this kernel (not built in; it needs Linux 5.13 or later with CONFIG_SECURITY_LANDLOCK); " +
			"unveil cannot restrict anything — run without strict mode to ignore this", true
	case errors.Is(err, unix.EOPNOTSUPP):
		return "Landlock is not available in this kernel (built in but disabled at boot; add landlock to the lsm= kernel parameter); " +
			"unveil cannot restrict anything — run without strict mode to ignore this", true
	case errors.Is(err, unix.EPERM):
		return "the Landlock system calls are refused, most likely by a pledge without the \"unveil\" promise; " +
			"unveil before pledging, or add \"unveil\" to the promises", false
	}
	return "cannot query the Landlock ABI version", false
}

// Ruleset is a set of unveil rules not yet enforced: a Landlock ruleset.
// Add rules, then enforce them on the calling thread ([Ruleset.RestrictThread])
// or on the whole process ([Ruleset.RestrictProcess]), then Close it.
// Enforcing is irreversible and only ever narrows access: each enforced
// ruleset is one more Landlock layer, and a thread can carry at most 16.
//
// When Landlock is not available and the ruleset was made without
// [UnveilOptions.Strict], every method succeeds and restricts nothing.
//
// A Ruleset is not safe for concurrent use.
type Ruleset struct {
	fd      int    // the Landlock ruleset; -1 when Landlock is absent or after Close
	abi     int    // the kernel's Landlock ABI version, 0 when absent
	handled uint64 // rights the ruleset handles: denied unless a rule grants them
	// rules maps the inode of every rule's target to the path it was
	// unveiled by, for Add(path, "") and its messages.
	rules  map[fileID]string
	closed bool
}

// fileID identifies an inode.
type fileID struct{ dev, ino uint64 }

func fileIDOf(st *unix.Stat_t) fileID { return fileID{uint64(st.Dev), st.Ino} }

// NewRuleset starts an empty ruleset. It fails when Landlock is missing and
// opts.Strict is set, or when the kernel refuses to create a ruleset.
func NewRuleset(opts UnveilOptions) (*Ruleset, error) {
	abi, err := landlockProbe()
	if err != nil {
		msg, absent := landlockUnavailable(err)
		if absent && !opts.Strict {
			return &Ruleset{fd: -1}, nil
		}
		return nil, fmt.Errorf("unveil: %s: %w", msg, err)
	}
	handled := rightsAll & knownFSRights(abi)
	attr := unix.LandlockRulesetAttr{Handled_access_fs: handled}
	// Pass only handled_access_fs: every ABI version accepts that size.
	r, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET,
		uintptr(unsafe.Pointer(&attr)), unsafe.Offsetof(attr.Handled_access_net), 0)
	if e != 0 {
		msg := "creating a Landlock ruleset failed"
		if e == unix.EPERM {
			msg, _ = landlockUnavailable(e)
		}
		return nil, fmt.Errorf("unveil: %s: %w", msg, e)
	}
	fd := int(r)
	// Move the descriptor out of the way of code that rearranges low
	// descriptors before an exec (as upstream does); keep it if that fails.
	if hi, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 100); err == nil {
		unix.Close(fd)
		fd = hi
	}
	return &Ruleset{fd: fd, abi: abi, handled: handled, rules: make(map[fileID]string)}, nil
}

// active reports whether the ruleset really restricts (Landlock present).
func (r *Ruleset) active() bool { return r.abi > 0 }

// Add unveils path with the given permissions, each letter adding rights
// beneath path (or on path itself when it is not a directory):
//
//	r  read files, list directories, and (Landlock ABI ≥ 2) move or link
//	   files into other directories, which also needs c on both sides
//	w  write and truncate files (ABI ≥ 3 for truncate, also on a single
//	   unveiled file), and use ioctl on devices opened after the commit
//	   (ABI ≥ 5; without w only a few generic ioctls work on them)
//	x  execute files; execve also reads the file, so programs need rx,
//	   and a dynamically linked one also rx on its ELF interpreter and r
//	   on its shared libraries
//	c  create and remove files, directories, links, sockets, FIFOs and
//	   device nodes
//
// Letters may repeat and come in any order; any other letter is an error
// wrapping EINVAL. Rights the kernel's Landlock version does not know are
// left out, and on a file only the file rights of r, w and x apply.
//
// A trailing chain of symbolic links is followed (at most 64, else ELOOP);
// the rule is bound to the inode found, not to the path name: renaming it
// keeps the rule, replacing it with a new file loses it. The path must
// exist (ENOENT otherwise). A dangling link at the end of a chain, such
// as /dev/stdin when it is a pipe, gets the rule on the last link itself.
//
// An empty perms hides path, which Landlock can only do by not allowing
// it: Add succeeds without adding a rule when no rule of this ruleset
// covers path, and otherwise fails with an error wrapping EPERM, because
// Landlock cannot take away part of an allowed tree.
//
// Nothing is enforced until the ruleset is.
func (r *Ruleset) Add(path, perms string) error {
	if r.closed {
		return fmt.Errorf("unveil %q: the ruleset was already closed: %w", path, unix.EBADF)
	}
	if path == "" {
		return fmt.Errorf("unveil: empty path (use LandlockABI to ask for the Landlock version): %w", unix.EINVAL)
	}
	if !r.active() {
		return nil
	}
	rights, err := parsePerms(perms)
	if err != nil {
		return fmt.Errorf("unveil %q: %w", path, err)
	}
	target, err := resolveLinks(path)
	if err != nil {
		return pathError(path, err)
	}
	if rights == 0 {
		return r.hide(path, target)
	}
	fd, err := unix.Open(target, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return pathError(path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return pathError(path, err)
	}
	rights = gradeRights(rights, r.abi, st.Mode&unix.S_IFMT == unix.S_IFDIR)
	if rights == 0 { // only c, on a file
		return fmt.Errorf("unveil %q: %q grants nothing on a file: c (create and remove) only applies to directories, "+
			"so unveil the parent directory with c instead: %w", path, perms, unix.ENOMSG)
	}
	attr := unix.LandlockPathBeneathAttr{Allowed_access: rights, Parent_fd: int32(fd)}
	_, _, e := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, uintptr(r.fd), unix.LANDLOCK_RULE_PATH_BENEATH,
		uintptr(unsafe.Pointer(&attr)), 0, 0, 0)
	if e != 0 {
		return fmt.Errorf("unveil %q: adding the Landlock rule failed: %w", path, e)
	}
	id := fileIDOf(&st)
	if _, ok := r.rules[id]; !ok {
		r.rules[id] = path
	}
	return nil
}

// gradeRights keeps the rights a kernel with the given Landlock ABI knows,
// and on a file (dir false) only those Landlock accepts on files.
func gradeRights(rights uint64, abi int, dir bool) uint64 {
	rights &= rightsAll & knownFSRights(abi)
	if !dir {
		rights &= rightsFile
	}
	return rights
}

// parsePerms turns unveil permission letters into Landlock rights.
func parsePerms(perms string) (uint64, error) {
	var rights uint64
	for _, c := range perms {
		switch c {
		case 'r':
			rights |= rightsR
		case 'w':
			rights |= rightsW
		case 'x':
			rights |= rightsX
		case 'c':
			rights |= rightsC
		default:
			return 0, fmt.Errorf("unknown permission %q in %q (use the letters r, w, x and c): %w", c, perms, unix.EINVAL)
		}
	}
	return rights, nil
}

// pathError explains a failure to find or open an unveiled path.
func pathError(path string, err error) error {
	var hint string
	switch {
	case errors.Is(err, unix.ENOENT):
		hint = "it does not exist; Landlock rules attach to existing files, so create it first or unveil its parent directory"
	case errors.Is(err, unix.ELOOP):
		hint = fmt.Sprintf("more than %d symbolic links in a row", maxLinks)
	case errors.Is(err, unix.ENAMETOOLONG):
		hint = fmt.Sprintf("the path, or the path a symbolic link leads to, is %d bytes or longer", unix.PathMax)
	case errors.Is(err, unix.ENOTDIR):
		hint = "a part of the path that should be a directory is not"
	case errors.Is(err, unix.EACCES):
		hint = "a directory on the way cannot be searched"
	default:
		hint = "cannot open it"
	}
	return fmt.Errorf("unveil %q: %s: %w", path, hint, err)
}

// resolveLinks follows a trailing chain of symbolic links by hand, as
// upstream does (at most maxLinks steps), and returns the path to open
// with O_NOFOLLOW. A link whose target does not exist (or cannot be a
// path, like "pipe:[1234]") ends the chain on that link; a path that does
// not exist at all is an error.
func resolveLinks(path string) (string, error) {
	if len(path) >= unix.PathMax {
		return "", unix.ENAMETOOLONG
	}
	buf := make([]byte, unix.PathMax)
	p, last := path, ""
	for range maxLinks {
		n, err := unix.Readlink(p, buf)
		switch {
		case err == unix.EINVAL: // not a symbolic link
			return p, nil
		case (err == unix.ENOENT || err == unix.ENOTDIR) && last != "":
			return last, nil // dangling link: the rule goes on the link itself
		case err != nil:
			return "", err
		case n >= len(buf):
			return "", unix.ENAMETOOLONG
		}
		next := string(buf[:n])
		if !strings.HasPrefix(next, "/") {
			if i := strings.LastIndexByte(p, '/'); i >= 0 {
				next = p[:i+1] + next
			}
		}
		if len(next) >= unix.PathMax {
			return "", unix.ENAMETOOLONG
		}
		p, last = next, p
	}
	return "", unix.ELOOP
}

// hide handles Add(path, ""): Landlock hides whatever no rule allows, so
// there is nothing to add, unless a rule already covers target.
func (r *Ruleset) hide(path, target string) error {
	by, err := r.coveredBy(target)
	if err != nil {
		return pathError(path, err)
	}
	if by != "" {
		what := fmt.Sprintf("it lies beneath %q, which is unveiled", by)
		if by == path {
			what = "it is unveiled already"
		}
		return fmt.Errorf("unveil %q: cannot hide it: %s, and Landlock cannot take away part of what it allows "+
			"(unveil the parts that should stay visible instead): %w", path, what, unix.EPERM)
	}
	return nil
}

// coveredBy returns the path of a rule of r that applies to target (a rule
// on target itself or on a directory above it), or "" when there is none.
// It walks up with ".." as the kernel sees the tree, the way Landlock does.
func (r *Ruleset) coveredBy(target string) (string, error) {
	fd, err := unix.Open(target, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return "", err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		unix.Close(fd)
		if by, ok := r.rules[fileIDOf(&st)]; ok {
			return by, nil
		}
		dir := "."
		if i := strings.LastIndexByte(target, '/'); i == 0 {
			dir = "/"
		} else if i > 0 {
			dir = target[:i]
		}
		if fd, err = unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			return "", err
		}
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return "", err
		}
	}
	defer func() { unix.Close(fd) }()
	for {
		if by, ok := r.rules[fileIDOf(&st)]; ok {
			return by, nil
		}
		parent, err := unix.Openat(fd, "..", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return "", err
		}
		unix.Close(fd)
		fd = parent
		var pst unix.Stat_t
		if err := unix.Fstat(fd, &pst); err != nil {
			return "", err
		}
		if fileIDOf(&pst) == fileIDOf(&st) {
			return "", nil // reached the root
		}
		st = pst
	}
}

// RestrictThread enforces the ruleset on the calling OS thread only, after
// setting no_new_privs on it; children it starts afterwards inherit both.
// This is for launchers that restrict one thread right before starting a
// child (spec §9.7); use [Ruleset.RestrictProcess] to restrict a Go program.
//
// RestrictThread locks the calling goroutine to its OS thread for good
// ([runtime.LockOSThread], never undone), so the Go runtime destroys the
// restricted thread when the goroutine returns instead of handing it to
// other goroutines.
func (r *Ruleset) RestrictThread() error {
	runtime.LockOSThread()
	if r.closed {
		return fmt.Errorf("unveil commit: the ruleset was already closed: %w", unix.EBADF)
	}
	if !r.active() {
		return nil
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("unveil commit: setting no_new_privs failed: %w", err)
	}
	_, _, e := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, uintptr(r.fd), 0, 0)
	if e != 0 {
		return restrictError(e)
	}
	prog, err := commitFilter(r.abi)
	if err == nil {
		err = InstallThreadFilter(prog)
	}
	if err != nil {
		return fmt.Errorf("unveil commit: the Landlock ruleset is enforced but its companion seccomp filter (setxattr) is not: %w", err)
	}
	return nil
}

// RestrictProcess enforces the ruleset on every thread of the process, and
// sets no_new_privs on them: set-user-ID bits and file capabilities are
// ignored by later execve calls. Threads and processes started later
// inherit the restriction. It never restricts only some threads: with
// Landlock ABI ≥ 8 the kernel applies it to all threads at once
// (LANDLOCK_RESTRICT_SELF_TSYNC); before that every thread of the Go
// runtime makes the system calls ([syscall.AllThreadsSyscall]), which
// does not work in binaries built with cgo.
//
// Like upstream's unveil commit, it then adds a small seccomp filter that
// makes setxattr fail with EPERM everywhere, and truncate too when
// Landlock cannot control truncation (ABI < 3); RestrictThread does the
// same for its thread.
//
// If it fails, no_new_privs may be set already but the ruleset is not
// enforced.
func (r *Ruleset) RestrictProcess() error {
	if err := r.restrictProcess(); err != nil {
		return err
	}
	if !r.active() {
		return nil
	}
	prog, err := commitFilter(r.abi)
	if err == nil {
		err = installFilter(prog, unix.SECCOMP_FILTER_FLAG_TSYNC)
	}
	if err != nil {
		return fmt.Errorf("unveil commit: the Landlock ruleset is enforced but its companion seccomp filter (setxattr) is not: %w", err)
	}
	return nil
}

func (r *Ruleset) restrictProcess() error {
	if r.closed {
		return fmt.Errorf("unveil commit: the ruleset was already closed: %w", unix.EBADF)
	}
	if !r.active() {
		return nil
	}
	if r.abi >= abiTSync {
		// no_new_privs on the calling thread; TSYNC propagates it to the
		// other threads along with the Landlock domain.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("unveil commit: setting no_new_privs failed: %w", err)
		}
		_, _, e := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, uintptr(r.fd), unix.LANDLOCK_RESTRICT_SELF_TSYNC, 0)
		if e != 0 {
			return restrictError(e)
		}
		return nil
	}
	if _, _, e := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0); e != 0 {
		if e == syscall.ENOTSUP {
			return allThreadsError(r.abi, e)
		}
		return fmt.Errorf("unveil commit: setting no_new_privs on every thread failed: %w", e)
	}
	if _, _, e := syscall.AllThreadsSyscall(unix.SYS_LANDLOCK_RESTRICT_SELF, uintptr(r.fd), 0, 0); e != 0 {
		if e == syscall.ENOTSUP {
			return allThreadsError(r.abi, e)
		}
		return restrictError(e)
	}
	return nil
}

func allThreadsError(abi int, e error) error {
	return fmt.Errorf("unveil commit: cannot restrict every thread: this kernel's Landlock (ABI %d) cannot do it by itself "+
		"(that needs ABI %d) and the Go runtime cannot make a system call on all threads in a binary built with cgo; "+
		"build with CGO_ENABLED=0: %w", abi, abiTSync, e)
}

func restrictError(e error) error {
	switch e {
	case unix.E2BIG:
		return fmt.Errorf("unveil commit: Landlock allows at most %d stacked rulesets per thread and this thread has %d already "+
			"(each commit adds one); commit fewer times: %w", maxLayers, maxLayers, e)
	case unix.EPERM:
		msg, _ := landlockUnavailable(e)
		return fmt.Errorf("unveil commit: %s: %w", msg, e)
	}
	return fmt.Errorf("unveil commit: enforcing the Landlock ruleset failed: %w", e)
}

// Close releases the ruleset. Rules already enforced stay in force; the
// ruleset cannot be used afterwards. Closing twice is harmless.
func (r *Ruleset) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.fd < 0 {
		return nil
	}
	fd := r.fd
	r.fd = -1
	if err := unix.Close(fd); err != nil {
		return fmt.Errorf("unveil: closing the Landlock ruleset failed: %w", err)
	}
	return nil
}
