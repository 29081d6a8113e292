// Package pledgecli holds the parts of the `pledge` command (and of
// `vow exec`, the same command) that can be built and tested without the
// seccomp filter: option parsing, the plan of what the command will do, and
// the small irreversible helpers it calls right before execve.
//
// The command is a drop-in replacement for Cosmopolitan's pledge.com; the
// behaviour follows pledge.md §7 with vow's decisions of §0 (items 15–16).
// A command built from this package runs, in order (each failure is an
// *Error: print it with Report and exit with its Code):
//
//	d := SystemDefaults()
//	o, err := Parse(name, os.Args[1:], d)          // §7.1–7.2; -h is ErrHelp
//	if o.HasTest: exit FeatureTest(os.Stderr, o.Test) // §7.10
//	runtime.LockOSThread(); debug.SetGCPercent(-1)   // §9.8
//	if !o.NoNormalize: NormalizeFDs()              // §7.11
//	if o.Nice: MakeNice()                          // §7.5
//	for l in o.Limits(HostCPU()) if !l.Late: l.Apply() (print, go on)
//	c := CurrentCreds(); BecomeOwner(c)            // §7.8 step 6
//	CheckSetuidFlags(o, c)                         // exit 6
//	if o.HasChroot: EnterChroot(o.Name, o.Chroot, c)  // exit 7, 8, 9
//	env := HostEnv()  // after chroot, as pledge.com; add CheckPromises
//	WithFSIDs(c, func() error { plan, err = NewPlan(o, env) })
//	                                               // exit 10, 21, 1
//	CheckNoDrop(o, c); if !o.NoDrop: DropBoundingSet() // exit 6, 25
//	SetIDs(o.Name, c, o.UID, o.GID)                // exit 11–18
//	if !o.NoDrop: ClearCapabilities()              // exit 25
//	if plan.Unveil: plan.Unveils, commit           // exit 20 (sandbox package)
//	for l in limits if l.Late: l.Apply() (exit 1 if l.Fatal)
//	pledge(plan.Promises, plan.Promises), plan.Penalty  // exit 19
//	execve(plan.Program.Path, plan.Argv, plan.Env) // exit 127
//
// No function in this package calls os.Exit.
package pledgecli
