package pledgecli

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultPath is the search path used when $PATH is not set (Cosmopolitan's
// _PATH_DEFPATH).
const DefaultPath = "/usr/local/bin:/bin:/usr/bin"

// LookPath finds PROG the way pledge.com's commandv does (pledge.md §7.8
// step 10): a name containing '/' is used as is, otherwise each directory
// of $PATH from environ is tried in order (DefaultPath when PATH is unset;
// an empty entry means the current directory). A candidate must be
// executable by this process and a regular file. It returns the path to
// give execve, or syscall.ENOENT (syscall.EACCES when some candidate existed
// but was not executable). An empty name is ENOENT.
//
// The execute check uses faccessat2(AT_EACCESS), i.e. the filesystem ids:
// run LookPath inside WithFSIDs to check as the invoking user of a setuid
// install.
func LookPath(name string, environ []string) (string, error) {
	if name == "" {
		return "", unix.ENOENT
	}
	dirs := []string{""}
	if !strings.Contains(name, "/") {
		path, ok := getenv(environ, "PATH")
		if !ok {
			path = DefaultPath
		}
		dirs = strings.Split(path, ":")
	}
	seenEACCES := false
	for _, dir := range dirs {
		p := name
		if dir != "" {
			p = dir + "/" + name
		}
		err := accessX(p)
		if err == nil {
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p, nil
			}
		} else if errors.Is(err, unix.EACCES) {
			seenEACCES = true
		}
	}
	if seenEACCES {
		return "", unix.EACCES
	}
	return "", unix.ENOENT
}

// accessX checks that p is executable for the filesystem ids.
func accessX(p string) error {
	err := unix.Faccessat2(unix.AT_FDCWD, p, unix.X_OK, unix.AT_EACCESS)
	if errors.Is(err, unix.ENOSYS) {
		return unix.Access(p, unix.X_OK)
	}
	return err
}

// getenv returns the value of the last entry "key=value" of environ.
func getenv(environ []string, key string) (string, bool) {
	for i := len(environ) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(environ[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// Kind is how one file in PROG's chain is loaded (pledge.md §7.7).
type Kind int

const (
	// KindStatic is a static ELF, and anything that is not recognised
	// (including files that cannot be read), as in pledge.com.
	KindStatic Kind = iota
	// KindDynamic is a 64-bit ELF of type ET_DYN (so static-PIE counts),
	// or one with a PT_INTERP or PT_DYNAMIC program header.
	KindDynamic
	// KindAPE is an Actually Portable Executable (first 8 bytes
	// "MZqFpD='", "jartsr='" or "APEDBG='").
	KindAPE
	// KindScript is a file starting with "#!" (vow, pledge.md §0.16; it
	// was static in pledge.com).
	KindScript
)

func (k Kind) String() string {
	switch k {
	case KindStatic:
		return "static"
	case KindDynamic:
		return "dynamic"
	case KindAPE:
		return "ape"
	case KindScript:
		return "script"
	}
	return "Kind(?)"
}

// MaxInterpreterDepth is how many "#!" interpreters are followed, as many as
// the kernel's execve allows before ELOOP.
const MaxInterpreterDepth = 5

// Image is one file of PROG's chain: PROG itself or one of its
// interpreters.
type Image struct {
	// Path is the file as execve (or the kernel's script loader) opens it.
	Path string
	// Kind is how it is loaded.
	Kind Kind
	// Interp is the PT_INTERP path of an ELF, or the interpreter of a
	// "#!" script; Arg is the optional argument of the "#!" line.
	Interp, Arg string
}

// Program is PROG after lookup and classification.
type Program struct {
	// Path is the resolved PROG, as given to execve.
	Path string
	// Chain is PROG followed by the interpreters the kernel will load for
	// it ("#!" lines, recursively, up to MaxInterpreterDepth), and for
	// "#!/usr/bin/env NAME" the program env will run, looked up in $PATH.
	Chain []Image
}

// Strategy is pledge.com's strategy for the whole chain: KindDynamic when
// any file is dynamic, else KindAPE when any is an APE, else KindStatic. A
// script whose interpreter chain is static is static.
func (p Program) Strategy() Kind {
	s := KindStatic
	for _, im := range p.Chain {
		switch im.Kind {
		case KindDynamic:
			return KindDynamic
		case KindAPE:
			s = KindAPE
		}
	}
	return s
}

// Has reports whether some file of the chain is of kind k.
func (p Program) Has(k Kind) bool {
	for _, im := range p.Chain {
		if im.Kind == k {
			return true
		}
	}
	return false
}

// Interpreters are the paths of the chain after PROG.
func (p Program) Interpreters() []string {
	var out []string
	for _, im := range p.Chain[min(1, len(p.Chain)):] {
		out = append(out, im.Path)
	}
	return out
}

// ClassifyProgram classifies path and follows its interpreters. environ is
// the environment PROG will get; its PATH is used for "#!/usr/bin/env NAME".
func ClassifyProgram(path string, environ []string) Program {
	p := Program{Path: path}
	for next := path; next != "" && len(p.Chain) <= MaxInterpreterDepth; {
		im := Classify(next)
		p.Chain = append(p.Chain, im)
		next = ""
		if im.Kind != KindScript {
			break
		}
		next = im.Interp
		name := envCommand(im.Arg)
		if filepath.Base(im.Interp) != "env" || name == "" {
			continue
		}
		// "#!/usr/bin/env NAME": env runs NAME from $PATH; classify env,
		// then follow NAME so that it is unveiled and its kind counts.
		envImage := Classify(im.Interp)
		p.Chain = append(p.Chain, envImage)
		next = ""
		if envImage.Kind == KindScript {
			break
		}
		if found, err := LookPath(name, environ); err == nil {
			next = found
		}
	}
	return p
}

// envCommand is the program that "#!/usr/bin/env ARG" runs, or "" when it
// cannot be told: ARG is "NAME", or "-S NAME ..." with optional VAR=value
// words first.
func envCommand(arg string) string {
	words := strings.Fields(arg)
	if len(words) > 1 || (len(words) == 1 && strings.HasPrefix(words[0], "-")) {
		switch {
		case words[0] == "-S":
			words = words[1:]
		case strings.HasPrefix(words[0], "-S"):
			words[0] = words[0][2:]
		default:
			return "" // one word with spaces is not a file name env finds
		}
		for len(words) > 0 && strings.Contains(words[0], "=") {
			words = words[1:]
		}
	}
	if len(words) == 0 || strings.HasPrefix(words[0], "-") {
		return ""
	}
	return words[0]
}

// APE magics (pledge.md §7.7).
var apeMagics = []string{"MZqFpD='", "jartsr='", "APEDBG='"}

// binprmBufSize is how much of a script the kernel reads for its "#!" line.
const binprmBufSize = 256

// Classify reads the start of the file at path and says how it is loaded
// (pledge.md §7.7, with "#!" scripts recognised as vow requires). A file
// that cannot be opened or read is KindStatic, as in pledge.com.
func Classify(path string) Image {
	im := Image{Path: path, Kind: KindStatic}
	// Not os.Open: the first os.File of a regular file sets up the
	// runtime's network poller (three system calls) for nothing.
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return im
	}
	f := fdReader(fd)
	defer unix.Close(fd)
	buf := make([]byte, binprmBufSize)
	n, _ := f.ReadAt(buf, 0)
	buf = buf[:n]
	if bytes.HasPrefix(buf, []byte("#!")) {
		if interp, arg, ok := parseShebang(buf); ok {
			im.Kind, im.Interp, im.Arg = KindScript, interp, arg
		}
		return im
	}
	if n < 64 {
		return im // pledge.com needs a whole ELF header
	}
	for _, m := range apeMagics {
		if string(buf[:8]) == m {
			im.Kind = KindAPE
			return im
		}
	}
	classifyELF(f, buf[:64], &im)
	return im
}

// fdReader reads a file descriptor at offsets (pread).
type fdReader int

// ReadAt is io.ReaderAt's.
func (f fdReader) ReadAt(b []byte, off int64) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Pread(int(f), b[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.EOF
		}
		n += m
	}
	return n, nil
}

// parseShebang splits a "#!" line as the kernel's binfmt_script does: the
// line ends at a newline (or after binprmBufSize bytes), the interpreter
// is the first word after "#!" and optional blanks, the argument is the
// rest with surrounding blanks removed. ok is false when there is no
// interpreter (the kernel fails such an exec with ENOEXEC).
func parseShebang(buf []byte) (interp, arg string, ok bool) {
	line := buf[2:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	line = bytes.Trim(line, " \t")
	if len(line) == 0 {
		return "", "", false
	}
	i := bytes.IndexAny(line, " \t")
	if i < 0 {
		return string(line), "", true
	}
	return string(line[:i]), string(bytes.TrimLeft(line[i:], " \t")), true
}
