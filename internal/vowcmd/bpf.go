// Package vowcmd implements the subcommands of the vow command; cmd/vow
// only dispatches to them.
package vowcmd

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/vow-sandbox/vow/sandbox/bpf"
	"github.com/vow-sandbox/vow/sandbox/filter"
	"github.com/vow-sandbox/vow/sandbox/promise"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

// Exit statuses of vow.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

const bpfUsage = `usage: vow bpf [-p PROMISES] [-x EXECPROMISES] [-k] [-q] [--raw] [--arch ARCH] [--pid PID]

Print the seccomp program that pledge(PROMISES, EXECPROMISES) would install:
a listing with labels, system call names and the promises behind each
verdict, or with --raw the struct sock_filter array (8 bytes per
instruction, little endian) on stdout.

  -p PROMISES      promises (default "stdio rpath", as the pledge command)
  -x EXECPROMISES  also compile the filter added at exec (pledge.md §5.3);
                   with --raw that second program is the one written
  -k               kill the process on a violation instead of EPERM
  -q               no violation logging: the filter itself returns the
                   penalty instead of asking the supervising vow process
  --raw            write the binary program instead of a listing
  --arch ARCH      compile for amd64 (x86_64) or arm64 (aarch64);
                   default: this machine
  --pid PID        the process id that kill/tgkill under stdio may signal
                   (default: this vow process)
`

// Bpf runs `vow bpf`.
func Bpf(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vow bpf", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	promises := fs.String("p", "stdio rpath", "")
	execSet := fs.String("x", "", "")
	kill := fs.Bool("k", false, "")
	quiet := fs.Bool("q", false, "")
	raw := fs.Bool("raw", false, "")
	archName := fs.String("arch", "", "")
	pid := fs.Uint("pid", 0, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, bpfUsage)
			return ExitOK
		}
		fmt.Fprintf(stderr, "vow bpf: %v\n%s", err, bpfUsage)
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vow bpf: unexpected argument %q\n%s", fs.Arg(0), bpfUsage)
		return ExitUsage
	}
	arch := sysno.Native()
	if *archName != "" {
		a, err := sysno.Lookup(*archName)
		if err != nil {
			fmt.Fprintf(stderr, "vow bpf: %v\n", err)
			return ExitUsage
		}
		arch = a
	}
	if arch == nil {
		fmt.Fprintln(stderr, "vow bpf: this machine's architecture is not supported; use --arch amd64 or --arch arm64")
		return ExitUsage
	}
	set, err := promise.Parse(*promises)
	if err != nil {
		fmt.Fprintf(stderr, "vow bpf: %v\n", err)
		return ExitUsage
	}
	pol := filter.Policy{Arch: arch, Promises: set, Penalty: filter.ReturnEPERM, Notify: !*quiet, PID: uint32(*pid)}
	if *kill {
		pol.Penalty = filter.KillProcess
	}
	policies := []filter.Policy{pol}
	if isSet(fs, "x") {
		ex, err := promise.Parse(*execSet)
		if err != nil {
			fmt.Fprintf(stderr, "vow bpf: -x: %v\n", err)
			return ExitUsage
		}
		ex, err = promise.ExecPromises(set, &ex)
		if err != nil {
			fmt.Fprintf(stderr, "vow bpf: %v\n", err)
			return ExitUsage
		}
		expol := pol
		expol.Promises = ex
		policies = append(policies, expol)
	}
	if *raw {
		p := policies[len(policies)-1]
		prog, err := filter.Compile(&p)
		if err != nil {
			fmt.Fprintf(stderr, "vow bpf: %v\n", err)
			return ExitError
		}
		if _, err := stdout.Write(bpf.Encode(prog.Insns)); err != nil {
			fmt.Fprintf(stderr, "vow bpf: writing the program: %v\n", err)
			return ExitError
		}
		return ExitOK
	}
	for i, p := range policies {
		prog, err := filter.CompileAnnotated(&p)
		if err != nil {
			fmt.Fprintf(stderr, "vow bpf: %v\n", err)
			return ExitError
		}
		if i == 1 {
			fmt.Fprintln(stdout, "\n; installed just before exec, on top of the first filter:")
		}
		if _, err := io.WriteString(stdout, filter.Listing(&p, prog)); err != nil {
			fmt.Fprintf(stderr, "vow bpf: %v\n", err)
			return ExitError
		}
	}
	return ExitOK
}

func isSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			found = true
		}
	})
	return found
}
