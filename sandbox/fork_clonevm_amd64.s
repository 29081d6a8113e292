//go:build !cgo

#include "textflag.h"

// func cloneVM(flags, stack uintptr, p unsafe.Pointer, entry uintptr) (pid, errno uintptr)
//
// clone(flags, stack, 0, 0, 0). The parent returns the pid or the errno.
// The child starts on the new stack, in the caller's address space, and
// calls childEntry(p), watchEntry(p) or watcherEntry(p) for entry 0, 1
// or 2 (ABI0: the argument at 0(SP) before the CALL), which execs or
// exits; should it return, the child exits with 127.
TEXT ·cloneVM(SB),NOSPLIT|NOFRAME,$0-48
	MOVQ	flags+0(FP), DI
	MOVQ	stack+8(FP), SI
	MOVQ	$0, DX	// parent_tid
	MOVQ	$0, R10	// child_tid
	MOVQ	$0, R8	// tls
	MOVQ	p+16(FP), R12	// kept by the system call, copied to the child
	MOVQ	entry+24(FP), R13	// likewise
	MOVL	$56, AX	// SYS_clone
	SYSCALL
	CMPQ	AX, $0
	JEQ	child
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, pid+32(FP)
	NEGQ	AX
	MOVQ	AX, errno+40(FP)
	RET
ok:
	MOVQ	AX, pid+32(FP)
	MOVQ	$0, errno+40(FP)
	RET
child:
	// Through a register: the linker's nosplit check would otherwise add
	// the child's calls, made on its own 64 KB stack, to the parent's
	// chain of nosplit frames.
	SUBQ	$16, SP
	MOVQ	R12, 0(SP)
	MOVQ	$·childEntry(SB), AX
	CMPQ	R13, $0
	JEQ	call
	MOVQ	$·watchEntry(SB), AX
	CMPQ	R13, $1
	JEQ	call
	MOVQ	$·watcherEntry(SB), AX
call:
	CALL	AX
	MOVL	$127, DI
	MOVL	$231, AX	// SYS_exit_group
	SYSCALL
	INT	$3
