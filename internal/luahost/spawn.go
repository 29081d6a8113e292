package luahost

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/lualib"
	"github.com/vow-sandbox/vow/sandbox"
	"github.com/vow-sandbox/vow/sandbox/promise"
)

// rlimitNames maps the keys of opts.rlimits to resources.
var rlimitNames = map[string]int{
	"cpu":    unix.RLIMIT_CPU,
	"as":     unix.RLIMIT_AS,
	"nofile": unix.RLIMIT_NOFILE,
	"nproc":  unix.RLIMIT_NPROC,
	"fsize":  unix.RLIMIT_FSIZE,
}

// spawn implements unix.spawn (interfaces.md §2) with sandbox.Cmd: the
// child is a re-executed launcher that sets the limits, unveils, pledges
// and execs prog, without restricting this process. It returns the pid
// at once; the script reaps the child with unix.wait.
//
// Choices where the spec is silent, made so that restricting a child
// never stops it from starting:
//   - prog runs as given, relative to the current directory when it has
//     no slash (no $PATH search; unix.commandv finds programs);
//   - with promises, what loading prog needs is added as the pledge
//     command adds it: "exec" always, "rpath" and "prot_exec" for a
//     dynamic program or a script (pledge.md §7.3);
//   - with opts.unveil, prog itself, its interpreter and libraries are
//     unveiled too (pledge.md §7.6), so the list only has to name what
//     the program works on;
//   - the penalty defaults to EPERM; with PLEDGE_STDERR_LOGGING each
//     distinct violation is reported on vow's stderr.
func (h *hooks) spawn(req *lualib.SpawnRequest) (int, error) {
	for _, p := range []struct {
		name string
		s    *string
	}{{"promises", req.Promises}, {"execpromises", req.ExecPromises}} {
		if p.s == nil {
			continue
		}
		if _, err := promise.Parse(*p.s); err != nil {
			return 0, lualib.NewErrno(syscall.EINVAL, "opts."+p.name+": "+sandbox.PromiseMessage(err))
		}
	}
	if req.Promises != nil && req.ExecPromises != nil {
		set, _ := promise.Parse(*req.Promises + " exec")
		ex, _ := promise.Parse(*req.ExecPromises)
		if _, err := promise.ExecPromises(set, &ex); err != nil {
			return 0, lualib.NewErrno(syscall.EINVAL, "opts.execpromises must be a subset of opts.promises: "+
				strings.TrimPrefix(err.Error(), promise.ErrInvalid.Error()+": "))
		}
	}
	prog := req.Prog
	if !strings.Contains(prog, "/") {
		prog = "./" + prog
	}
	cmd := &sandbox.Cmd{
		Path:             prog,
		Args:             req.Argv,
		Env:              req.Env,
		Dir:              req.Dir,
		Promises:         req.Promises,
		ExecPromises:     req.ExecPromises,
		ImplicitPromises: req.Promises != nil,
		Name:             "spawn",
	}
	if len(cmd.Args) == 0 {
		cmd.Args = []string{req.Prog}
	}
	if req.Penalty != nil {
		m := sandbox.Mode(*req.Penalty)
		if _, err := m.Penalty(); err != nil {
			return 0, lualib.NewErrno(syscall.EINVAL, fmt.Sprintf("opts.penalty %d is not a pledge mode: "+
				"use unix.PLEDGE_PENALTY_RETURN_EPERM, PLEDGE_PENALTY_KILL_PROCESS or PLEDGE_PENALTY_KILL_THREAD, "+
				"optionally plus unix.PLEDGE_STDERR_LOGGING", *req.Penalty))
		}
		cmd.Mode = &m
	}
	if req.Unveil != nil {
		cmd.Unveil = make([]sandbox.UnveilRule, 0, len(req.Unveil))
		for _, r := range req.Unveil {
			cmd.Unveil = append(cmd.Unveil, sandbox.UnveilRule{Path: r.Path, Perms: r.Perms})
		}
		cmd.AutoUnveil = true
	}
	for name, v := range req.Rlimits {
		res, ok := rlimitNames[name]
		if !ok { // lualib checks the names; this is a bug
			return 0, lualib.NewErrno(syscall.EINVAL, fmt.Sprintf("bug: opts.rlimits: unknown limit %q", name))
		}
		lim := uint64(v)
		if v < 0 {
			lim = unix.RLIM_INFINITY
		}
		cmd.Rlimits = append(cmd.Rlimits, sandbox.Rlimit{Resource: res, Cur: lim, Max: lim})
	}
	// The child gets copies of the script's descriptors, so closing ours
	// after the start leaves the script's own open.
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for i, fd := range []int{req.Stdin, req.Stdout, req.Stderr} {
		nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			return 0, lualib.NewErrno(err.(syscall.Errno), fmt.Sprintf("opts.%s: descriptor %d cannot be handed to the child: %v",
				[]string{"stdin", "stdout", "stderr"}[i], fd, err))
		}
		f := os.NewFile(uintptr(nfd), fmt.Sprintf("fd%d", fd))
		files = append(files, f)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = files[0], files[1], files[2]
	if err := cmd.Start(); err != nil {
		return 0, spawnError(err)
	}
	pid := cmd.Process.Pid
	// unix.wait reaps the child; the os.Process handle is not needed.
	cmd.Process.Release()
	return pid, nil
}

// spawnError turns a launch failure into the Errno unix.spawn returns,
// with the launcher's message as its doc.
func spawnError(err error) error {
	var le *sandbox.LaunchError
	if errors.As(err, &le) {
		e := le.Errno
		if e == 0 {
			e = syscall.EINVAL
		}
		return lualib.NewErrno(e, le.Msg)
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return lualib.NewErrno(errno, err.Error())
	}
	return lualib.NewErrno(syscall.EIO, err.Error())
}
