package pledgecli

// Exit statuses of the pledge command (pledge.md §7.12). In the normal case
// the command is replaced by PROG and PROG's status is the command's. The
// unused codes 5 and 22–24 are not declared.
const (
	// ExitOK: -h, or a -T feature is present.
	ExitOK = 0
	// ExitFailure: invalid integer or size, too many promises or unveils,
	// poll failed during fd normalisation, the sandbox DSO could not be
	// extracted, RLIMIT_NOFILE could not be set, a -T feature is absent.
	ExitFailure = 1
	// ExitTestUnknown: -T with an unknown test name.
	ExitTestUnknown = 2
	// ExitDevNull: /dev/null could not be opened during fd normalisation.
	ExitDevNull = 2
	// ExitDevNullFD: /dev/null landed on the wrong descriptor number.
	ExitDevNullFD = 3
	// ExitCloseFD: a leaked descriptor could not be closed (vow: marked
	// close-on-exec).
	ExitCloseFD = 4
	// ExitSetuidFlags: -u, -g or -D used with a setuid/setgid install.
	ExitSetuidFlags = 6
	// ExitChrootAccess: (setuid install) the invoking user cannot read the
	// chroot directory.
	ExitChrootAccess = 7
	// ExitChdir: chdir to the chroot directory failed.
	ExitChdir = 8
	// ExitChroot: chroot failed.
	ExitChroot = 9
	// ExitNotFound: PROG not found or not executable.
	ExitNotFound = 10
	// ExitSetgidInstall / ExitSetgidInstallVerify: setgid install,
	// setgid(real gid) failed / did not take.
	ExitSetgidInstall       = 11
	ExitSetgidInstallVerify = 12
	// ExitSetgid / ExitSetgidVerify: -g, setgid failed / did not take.
	// vow also resets the supplementary groups at this step (§0.16).
	ExitSetgid       = 13
	ExitSetgidVerify = 14
	// ExitSetuidInstall / ExitSetuidInstallVerify: setuid install,
	// setuid(real uid) failed / did not take.
	ExitSetuidInstall       = 15
	ExitSetuidInstallVerify = 16
	// ExitSetuid / ExitSetuidVerify: -u, setuid failed / did not take.
	ExitSetuid       = 17
	ExitSetuidVerify = 18
	// ExitPledge: installing the seccomp filter failed.
	ExitPledge = 19
	// ExitUnveil: a required unveil, an automatic or -v unveil with an
	// error other than ENOENT, or the commit failed.
	ExitUnveil = 20
	// ExitBadPromises: unknown promise name.
	ExitBadPromises = 21
	// ExitCapDrop: PR_CAPBSET_DROP (or, in vow, clearing the capability
	// sets) failed with an error other than EINVAL/EPERM.
	ExitCapDrop = 25
	// ExitUsage: unknown option, missing option argument (vow, §0.16), or
	// no PROG.
	ExitUsage = 64
	// ExitExec: execve failed.
	ExitExec = 127
)
