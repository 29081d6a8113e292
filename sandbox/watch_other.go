//go:build !amd64 || cgo

package sandbox

import "syscall"

// watchSupported: Exec cannot log violations here (its watcher needs
// cloneVM, fork_clonevm_amd64.s).
const watchSupported = false

const watchStackSize = 0

func (w *watchParams) start() syscall.Errno { return syscall.ENOTSUP }
