// Package sandbox brings OpenBSD's pledge() and unveil() to Linux for Go
// programs.
//
// Unveil is built on the Landlock LSM. [Unveil] adds "allow these
// permissions beneath this file or directory" rules to a pending,
// process-wide ruleset and [UnveilCommit] enforces it on every thread of
// the process; from then on everything not unveiled is refused with EACCES.
// Committing again stacks a new ruleset on top, so access can only shrink.
// [Ruleset] is the same machinery without the process-wide state, for
// code that restricts a single thread right before it starts a child.
//
// Without Landlock (kernels before 5.13, or Landlock disabled at boot)
// unveil succeeds and restricts nothing, as upstream does; set
// [UnveilOptions.Strict] to get an error instead. [LandlockABI] tells which
// case applies.
package sandbox
