package pledgecli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// OptString is the getopt option string of the command. It is
// pledge.com's, except that -D takes no argument (pledge.md §0.16).
const OptString = "hnqkNVDT:p:u:g:c:C:P:M:F:O:v:"

// MaxPromiseText is the size of pledge.com's promise buffer: the accumulated
// -p text (and the text after the implicit additions of §7.3) must be
// shorter than this.
const MaxPromiseText = 256

// MaxUnveils is the largest number of -v options pledge.com accepts.
const MaxUnveils = 10000

// DefaultPromises is the promise text used when no -p option is given.
const DefaultPromises = "stdio rpath"

// Options is the parsed command line of `pledge [options] PROG ARGS...`.
// Integer fields hold what the user typed, or the default from Defaults
// when the flag is absent.
type Options struct {
	// Name is the program name used in messages ("pledge", "vow exec").
	Name string

	// Help is -h: print the usage on stdout and exit 0. Parse returns
	// ErrHelp together with Options that have Help set.
	Help bool

	// Promises is the promise text: every -p value with its leading
	// white space removed, the non-empty ones joined with one space, or
	// DefaultPromises when there was no -p at all.
	Promises string
	// PromisesGiven reports that at least one -p was given, even an empty
	// one: `-p ''` means the empty promise set, not the default.
	PromisesGiven bool

	// Unveils are the -v options in order.
	Unveils []UnveilFlag
	// NoUnveil is -V: do not unveil at all (pledge only).
	NoUnveil bool
	// Quiet is -q: do not log violations on stderr (vow logs by default,
	// pledge.md §0.15).
	Quiet bool
	// Kill is -k: a violation kills the process instead of failing the
	// system call with EPERM.
	Kill bool
	// Nice is -n: maximum niceness (setpriority, ioprio idle, SCHED_IDLE).
	Nice bool
	// NoDrop is -D: do not drop capabilities. In vow it takes no argument.
	NoDrop bool
	// NoNormalize is -N: leave file descriptors as they are.
	NoNormalize bool

	// CPUSeconds is -C: CPU time in seconds on a 3.1 GHz reference CPU;
	// 0 or less leaves RLIMIT_CPU alone. Like pledge.com's C int, the value
	// is truncated to 32 bits.
	CPUSeconds int
	// Memory is -M: RLIMIT_AS in bytes (soft = hard).
	Memory int64
	// Files is -O: RLIMIT_NOFILE (soft = hard).
	Files int64
	// Procs is -P: RLIMIT_NPROC (soft = hard).
	Procs int64
	// FileSize is -F: RLIMIT_FSIZE soft limit in bytes; the hard limit is
	// 1.5 times that.
	FileSize int64

	// UID is -u, GID is -g: the ids to switch to before exec. 0 means "not
	// given" (as in pledge.com, `-u 0` does nothing). Like pledge.com's C
	// int, the values are truncated to 32 bits.
	UID, GID int

	// Chroot is -c: the directory to chdir and chroot into before PROG is
	// looked up. HasChroot is set when -c was given, even with "".
	Chroot    string
	HasChroot bool

	// Test is -T: a feature test to run instead of PROG ("pledge" or
	// "unveil"). HasTest is set when -T was given, even with "".
	Test    string
	HasTest bool

	// Prog is PROG as typed (it becomes argv[0] of the new program) and
	// Args are the words after it, passed through untouched.
	Prog string
	Args []string
}

// UnveilFlag is one -v [PERM:]PATH option.
type UnveilFlag struct {
	// Perm is the text before the first ':', or "r" without a colon.
	Perm string
	// Path is the text after the first ':', or the whole value.
	Path string
}

// ParseUnveilFlag splits a -v value the way pledge.com does: PERM is the
// text before the first colon; without a colon PERM is "r".
func ParseUnveilFlag(s string) UnveilFlag {
	if perm, path, ok := strings.Cut(s, ":"); ok {
		return UnveilFlag{Perm: perm, Path: path}
	}
	return UnveilFlag{Perm: "r", Path: s}
}

// WantsUnveil reports whether the command restricts the file system
// with Landlock: when -V is absent and the user asked for it, with at
// least one -v or the tmppath promise (whose only meaning is "/tmp and
// nothing else"). This is pledge.com's documented behaviour ("by default,
// only the pledge / seccomp policy is applied; if you specify at least one
// directory or file to unveil, that becomes the universe of files the
// program may access"), not the code of pledge.md §7.6, which unveils
// always and so makes `pledge -p 'stdio rpath' ls /` fail; vow decision,
// see README.md. The automatic unveils of §7.6 are then added
// to the user's, so that PROG still starts.
func (o *Options) WantsUnveil() bool {
	if o.NoUnveil {
		return false
	}
	return len(o.Unveils) > 0 || HasPromise(o.Promises, "tmppath")
}

// Argv is the argument vector for execve: PROG as typed, then ARGS.
func (o *Options) Argv() []string {
	return append([]string{o.Prog}, o.Args...)
}

// Error is a failure of the command: the message to print on stderr, the
// exit status of pledge.md §7.12, and whether the usage follows the
// message. Functions of this package return it instead of exiting.
type Error struct {
	// Code is the exit status.
	Code int
	// Msg is the complete message line, without the newline; it may be
	// empty.
	Msg string
	// Usage asks for the usage text on stderr after Msg.
	Usage bool
	// Err is the underlying cause (an errno, usually), for errors.Is.
	Err error
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrHelp is returned by Parse when -h was given: print the usage on
// stdout and exit 0.
var ErrHelp = errors.New("pledge: help requested")

// Report prints what err asks for and returns the exit status: the usage
// on stdout and 0 for ErrHelp; Msg and, if asked, the usage on stderr and
// Code for an *Error; the error text and 1 for anything else.
func Report(stdout, stderr io.Writer, usage string, err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, ErrHelp) {
		io.WriteString(stdout, usage)
		return ExitOK
	}
	var e *Error
	if !errors.As(err, &e) {
		fmt.Fprintf(stderr, "%v\n", err)
		return ExitFailure
	}
	if e.Msg != "" {
		fmt.Fprintf(stderr, "%s\n", e.Msg)
	}
	if e.Usage {
		io.WriteString(stderr, usage)
	}
	return e.Code
}

// Parse parses the command line args (without the program name) like
// pledge.com's getopt loop with OptString: short options only, bundled
// (-np 'stdio rpath'), arguments attached (-pstdio) or separate; parsing
// stops at the first word that is not an option (PROG), so PROG's own
// options pass through, and "--" ends the options. name is the program
// name used in messages; d gives the values of the absent flags.
//
// Errors, in the order the words are read: -h → ErrHelp (Help set); an
// unknown option or a missing option argument → *Error with the usage, exit
// 64 (vow, pledge.md §0.16; pledge.com printed the usage on stdout and
// exited 0); a bad integer or size, too many promises or unveils → exit 1.
// After the options: no PROG and no -T → "error: missing command" with the
// usage, exit 64. -T needs no PROG (the feature test runs before that
// check).
func Parse(name string, args []string, d Defaults) (*Options, error) {
	o := &Options{
		Name:     name,
		Memory:   d.Memory,
		Files:    d.Files,
		Procs:    d.Procs,
		FileSize: d.FileSize,
	}
	var promises strings.Builder
	g := getopt{args: args, opts: OptString}
	for {
		c, arg, err := g.next()
		if err != nil {
			return nil, &Error{Code: ExitUsage, Msg: name + ": " + err.Error(), Usage: true}
		}
		if c == 0 {
			break
		}
		switch c {
		case 'h':
			o.Help = true
			return o, ErrHelp
		case 'n':
			o.Nice = true
		case 'q':
			o.Quiet = true
		case 'k':
			o.Kill = true
		case 'N':
			o.NoNormalize = true
		case 'V':
			o.NoUnveil = true
		case 'D':
			o.NoDrop = true
		case 'T':
			o.Test, o.HasTest = arg, true
		case 'c':
			o.Chroot, o.HasChroot = arg, true
		case 'g', 'u', 'C', 'P', 'O':
			v, err := parseInt(arg)
			if err != nil {
				return nil, &Error{Code: ExitFailure, Msg: name + ": invalid integer: " + arg, Err: err}
			}
			switch c {
			case 'g':
				o.GID = int(int32(v))
			case 'u':
				o.UID = int(int32(v))
			case 'C':
				o.CPUSeconds = int(int32(v))
			case 'P':
				o.Procs = v
			case 'O':
				o.Files = v
			}
		case 'M', 'F':
			v, err := ParseSize(arg)
			if err != nil {
				return nil, &Error{Code: ExitFailure, Msg: name + ": invalid size: " + arg, Err: err}
			}
			if c == 'M' {
				o.Memory = v
			} else {
				o.FileSize = v
			}
		case 'p':
			o.PromisesGiven = true
			if !addPromise(&promises, arg) {
				return nil, &Error{Code: ExitFailure, Msg: name + ": too many promises (the -p text must stay under 256 bytes)"}
			}
		case 'v':
			if len(o.Unveils) == MaxUnveils {
				return nil, &Error{Code: ExitFailure, Msg: fmt.Sprintf("%s: too many unveils (at most %d -v options)", name, MaxUnveils)}
			}
			o.Unveils = append(o.Unveils, ParseUnveilFlag(arg))
		default:
			return nil, &Error{Code: ExitUsage, Msg: fmt.Sprintf("%s: bug: option -%c is in the option string but not handled", name, c), Usage: true}
		}
	}
	o.Promises = promises.String()
	if !o.PromisesGiven {
		o.Promises = DefaultPromises
	}
	rest := args[g.ind:]
	if len(rest) > 0 {
		o.Prog, o.Args = rest[0], slices.Clone(rest[1:])
	} else if !o.HasTest {
		return nil, &Error{Code: ExitUsage, Msg: "error: missing command", Usage: true}
	}
	return o, nil
}

// addPromise appends one -p value as pledge.com's AddPromise does: leading
// white space is skipped, an empty value adds nothing, values are joined by
// one space. It reports false when the text would reach MaxPromiseText.
func addPromise(b *strings.Builder, s string) bool {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	if s == "" {
		return true
	}
	n := len(s)
	if b.Len() > 0 {
		n++
	}
	if b.Len()+n >= MaxPromiseText {
		return false
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	b.WriteString(s)
	return true
}

// getopt is a POSIX getopt over args (argv without argv[0]), byte by byte
// like the C one.
type getopt struct {
	args []string
	opts string
	ind  int // index of the word being read
	pos  int // position inside args[ind]; 0 = at the start of a word
}

// getoptError is getopt's own complaint, in the BSD getopt wording that
// pledge.com printed.
type getoptError struct {
	msg string
	opt byte
}

func (e *getoptError) Error() string { return fmt.Sprintf("%s -- %c", e.msg, e.opt) }

// next returns the next option letter and its argument, or c == 0 when the
// options end (g.ind is then the index of PROG).
func (g *getopt) next() (c byte, arg string, err error) {
	if g.pos == 0 {
		if g.ind >= len(g.args) {
			return 0, "", nil
		}
		w := g.args[g.ind]
		if len(w) < 2 || w[0] != '-' {
			return 0, "", nil // PROG, or a lone "-"
		}
		if w == "--" {
			g.ind++
			return 0, "", nil
		}
		g.pos = 1
	}
	w := g.args[g.ind]
	c = w[g.pos]
	g.pos++
	atEnd := g.pos == len(w)
	i := strings.IndexByte(g.opts, c)
	if c == ':' || i < 0 {
		if atEnd {
			g.ind, g.pos = g.ind+1, 0
		}
		return 0, "", &getoptError{"illegal option", c}
	}
	if i+1 < len(g.opts) && g.opts[i+1] == ':' {
		switch {
		case !atEnd:
			arg = w[g.pos:]
		case g.ind+1 < len(g.args):
			g.ind++
			arg = g.args[g.ind]
		default:
			g.ind, g.pos = g.ind+1, 0
			return 0, "", &getoptError{"option requires an argument", c}
		}
		g.ind, g.pos = g.ind+1, 0
		return c, arg, nil
	}
	if atEnd {
		g.ind, g.pos = g.ind+1, 0
	}
	return c, "", nil
}
