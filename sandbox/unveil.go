package sandbox

import "sync"

// The process-wide unveil state: one pending ruleset, shared by all
// goroutines, enforced on every thread by UnveilCommit.
var (
	unveilMu      sync.Mutex
	unveilPending *Ruleset // nil: none yet, or Landlock absent
	unveilOpts    UnveilOptions
)

// SetUnveilOptions sets the options used by later [Unveil] and
// [UnveilCommit] calls.
func SetUnveilOptions(opts UnveilOptions) {
	unveilMu.Lock()
	defer unveilMu.Unlock()
	unveilOpts = opts
}

// pendingRuleset returns the pending process-wide ruleset, starting one if
// needed. A do-nothing ruleset (Landlock absent) is not kept, so the
// Strict option is looked at again on every call.
func pendingRuleset() (*Ruleset, error) {
	if unveilPending != nil {
		return unveilPending, nil
	}
	rs, err := NewRuleset(unveilOpts)
	if err != nil {
		return nil, err
	}
	if rs.active() {
		unveilPending = rs
	}
	return rs, nil
}

// Unveil adds path with permissions perms (letters r, w, x, c) to the
// process-wide set of unveiled paths, like OpenBSD's unveil(path, perms).
// Nothing is restricted until [UnveilCommit]; from then on only unveiled
// paths can be used, with their permissions. See [Ruleset.Add] for what
// the letters grant, how symbolic links are followed and what an empty
// perms does.
//
// Unveil may be called again after a commit: the new rules form a new
// ruleset that the next commit stacks on top of the old ones, so access
// can only shrink (the intersection of all commits applies).
//
// When Landlock is not available Unveil succeeds and does nothing, unless
// [UnveilOptions.Strict] is set; then it fails with an error wrapping
// ENOSYS or EOPNOTSUPP.
func Unveil(path, perms string) error {
	unveilMu.Lock()
	defer unveilMu.Unlock()
	rs, err := pendingRuleset()
	if err != nil {
		return err
	}
	return rs.Add(path, perms)
}

// UnveilCommit enforces the unveiled paths on every thread of the process
// and on everything it starts afterwards, like OpenBSD's unveil(NULL,
// NULL); it also sets no_new_privs (see [Ruleset.RestrictProcess]). A
// commit with nothing unveiled denies every file access Landlock controls.
// Afterwards files and directories not unveiled cannot be opened, listed,
// executed, created or removed (EACCES), although their metadata can still
// be read (stat, readlink, open with O_PATH).
//
// The pending rules are forgotten whether or not the commit succeeds; a
// later [Unveil] starts a new set. Landlock stacks at most 16 commits per
// process (then the error wraps E2BIG).
func UnveilCommit() error {
	unveilMu.Lock()
	defer unveilMu.Unlock()
	rs, err := pendingRuleset()
	if err != nil {
		return err
	}
	unveilPending = nil
	defer rs.Close()
	return rs.RestrictProcess()
}
