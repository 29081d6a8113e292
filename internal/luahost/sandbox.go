package luahost

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"

	"github.com/vow-sandbox/vow/lualib"
	"github.com/vow-sandbox/vow/sandbox"
	"github.com/vow-sandbox/vow/sandbox/promise"
)

// PledgeState is what a pledge from Lua left in force in this process,
// as reported to [Config.AfterPledge].
type PledgeState struct {
	// Promises are the promises in force: the intersection of every
	// pledge so far (promise.Error set when violations always give EPERM).
	Promises promise.Set
	// Kills is true once any installed filter kills on a violation:
	// filters stack and the kernel applies the harshest verdict, so a
	// later PLEDGE_PENALTY_RETURN_EPERM pledge does not undo it.
	Kills bool
	// Mode is the mode of this pledge.
	Mode sandbox.Mode
	// Listener is the descriptor of the supervised filter's listener when
	// this pledge was made with sandbox.PledgeNotify (Config.Supervised),
	// else -1.
	Listener int
}

// pledged is the process-wide record of pledges made from Lua: pledge and
// unveil restrict the whole process, whatever interpreter asked.
var pledged struct {
	sync.Mutex
	mode       sandbox.Mode // mode of the last successful pledge, for execpromises
	kills      bool
	supervised bool // a PledgeNotify succeeded: later pledges are plain
}

// hooks are the sandbox entry points of one interpreter.
type hooks struct {
	cfg Config
}

// pledge implements unix.pledge (lua-unix.md §4.1) with sandbox.Pledge.
// Everything a script can get wrong is checked here first, so that doc()
// names the mistake without the Go error's decoration.
func (h *hooks) pledge(promises, execpromises *string, mode int) error {
	if promises == nil {
		if execpromises != nil {
			return lualib.NewErrno(syscall.EINVAL, "execpromises given without promises: "+
				"pass the promises first, e.g. unix.pledge(\"stdio rpath exec\", \"stdio rpath\")")
		}
		return probePledge()
	}
	set, err := promise.Parse(*promises)
	if err != nil {
		return invalidPromises("", err)
	}
	if execpromises != nil {
		ex, err := promise.Parse(*execpromises)
		if err != nil {
			return invalidPromises("execpromises: ", err)
		}
		if _, err := promise.ExecPromises(set, &ex); err != nil {
			return invalidPromises("", err)
		}
	}
	m := sandbox.Mode(mode)
	if _, err := m.Penalty(); err != nil {
		return lualib.NewErrno(syscall.EINVAL, fmt.Sprintf("unknown penalty %d in mode %d: use unix.PLEDGE_PENALTY_KILL_THREAD (0), "+
			"unix.PLEDGE_PENALTY_KILL_PROCESS (1) or unix.PLEDGE_PENALTY_RETURN_EPERM (2), optionally with unix.PLEDGE_STDERR_LOGGING",
			int(m&sandbox.PenaltyMask), mode))
	}
	return h.install(*promises, execpromises, m)
}

// install makes the pledge and tells Config.AfterPledge.
func (h *hooks) install(promises string, execpromises *string, m sandbox.Mode) error {
	// Ask for the Landlock version now: the answer is cached, so the
	// unveil probe keeps working under promises without "unveil".
	sandbox.LandlockABI()
	pledged.Lock()
	notify := h.cfg.Supervised && !pledged.supervised
	pledged.Unlock()
	listener := -1
	var err error
	if notify {
		listener, err = sandbox.PledgeNotify(promises, execpromises, m)
	} else {
		err = sandbox.Pledge(promises, execpromises, m)
	}
	if err != nil {
		return kernelError(err)
	}
	set, _ := sandbox.Pledged()
	pledged.Lock()
	pledged.mode = m
	if listener >= 0 {
		pledged.supervised = true
	}
	if m&sandbox.PenaltyMask != sandbox.PenaltyReturnEPERM && set&promise.Error == 0 {
		pledged.kills = true
	}
	st := PledgeState{Promises: set, Kills: pledged.kills, Mode: m, Listener: listener}
	pledged.Unlock()
	if h.cfg.AfterPledge != nil {
		h.cfg.AfterPledge(st)
	}
	return nil
}

// probePledge is pledge(nil, nil): true when the kernel can enforce
// pledges. Once this process has pledged the answer is known, and asking
// the kernel again (prctl PR_GET_SECCOMP) might itself be a violation.
func probePledge() error {
	if _, ok := sandbox.Pledged(); ok {
		return nil
	}
	if err := sandbox.SeccompAvailable(); err != nil {
		return lualib.NewErrno(syscall.ENOSYS, "this kernel has no seccomp filter support (CONFIG_SECCOMP_FILTER), "+
			"so pledge cannot restrict anything")
	}
	return nil
}

// beforeExec runs right before unix.execve: when execpromises were given
// (lua-unix.md §4.1, "execpromises, step by step"), the process narrows
// itself to execpromises ∪ {exec} with the mode of the last pledge, as
// Cosmopolitan does, so the new program runs with execpromises. The Go
// runtime's own needs stay allowed (the process may continue if the exec
// fails), so the new program may also make those calls (futex, mmap
// without PROT_EXEC, signals to itself, …). Without execpromises, or
// without the exec promise (the exec itself will be refused), it does
// nothing.
func (h *hooks) beforeExec() error {
	ex, ok := sandbox.ExecPledge()
	if !ok {
		return nil
	}
	set, _ := sandbox.Pledged()
	if !set.Has(promise.Exec) {
		return nil
	}
	pledged.Lock()
	m := pledged.mode
	pledged.Unlock()
	if err := h.install((ex | promise.Of(promise.Exec)).String(), nil, m); err != nil {
		var e *lualib.Errno
		if errors.As(err, &e) {
			e.Doc = "installing the execpromises failed, so the program was not started: " + e.Doc
			return e
		}
		return err
	}
	return nil
}

// unveil implements unix.unveil (lua-unix.md §4.2, interfaces.md §2) with
// sandbox.Unveil, UnveilCommit and LandlockABI.
func (h *hooks) unveil(path, perms *string) (int, error) {
	switch {
	case path == nil && perms == nil:
		return 0, kernelError(sandbox.UnveilCommit())
	case path != nil && *path == "" && perms == nil:
		return sandbox.LandlockABI(), nil
	case path == nil:
		return 0, lualib.NewErrno(syscall.EINVAL, "permissions without a path: give both, e.g. unix.unveil(\"/tmp\", \"rwc\"), "+
			"or neither to commit")
	case perms == nil:
		return 0, lualib.NewErrno(syscall.EINVAL, fmt.Sprintf("no permissions for %q: give a string of the letters r, w, x and c "+
			"(\"\" hides the path), or unveil(nil, nil) to commit", *path))
	case *path == "":
		return 0, lualib.NewErrno(syscall.EINVAL, "empty path: unveil(\"\", nil) is the support probe; to stage a rule name a file or directory")
	}
	return 0, kernelError(sandbox.Unveil(*path, *perms))
}

// invalidPromises turns a promise-string error into EINVAL with the
// message as doc(), quoted the way lua-unix.md writes it: unknown promise
// 'stdoi' (did you mean 'stdio'?).
func invalidPromises(prefix string, err error) error {
	msg := strings.TrimPrefix(err.Error(), promise.ErrInvalid.Error()+": ")
	return lualib.NewErrno(syscall.EINVAL, prefix+strings.ReplaceAll(msg, `"`, `'`))
}

// kernelError turns an error from the sandbox package into one whose
// doc() is its explanation without the "pledge: "/"unveil " prefix and the
// errno text the Errno shows anyway. nil stays nil.
func kernelError(err error) error {
	if err == nil {
		return nil
	}
	var n syscall.Errno
	if !errors.As(err, &n) {
		return err // lualib reports it as EINVAL with err's text
	}
	doc := err.Error()
	doc = strings.TrimSuffix(doc, ": "+n.Error())
	for _, p := range []string{"pledge: ", "unveil: ", "unveil "} {
		doc = strings.TrimPrefix(doc, p)
	}
	return lualib.NewErrno(n, doc)
}
