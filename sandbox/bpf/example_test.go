package bpf_test

import (
	"fmt"
	"os"

	"github.com/vow-sandbox/vow/sandbox/bpf"
)

// A program that allows system call 39 and refuses everything else with
// EPERM, built with a label and printed as a listing.
func ExampleBuilder() {
	var b bpf.Builder
	allow := b.NewLabel("allow")
	b.LoadAbs(0, "syscall number")
	b.JumpIf(bpf.JEQ, 39, allow, bpf.Next, "getpid")
	b.Ret(0x00050001, "errno EPERM")
	b.Mark(allow)
	b.Ret(0x7fff0000, "allow")
	prog, err := b.Assemble()
	if err != nil {
		panic(err)
	}
	prog.WriteListing(os.Stdout)
	in := make([]byte, bpf.SeccompDataSize)
	in[0] = 39
	ret, stats, _ := bpf.Run(prog.Insns, in)
	fmt.Printf("getpid: %#x after %d instructions\n", ret, stats.Executed)
	// Output:
	//     0: ld   [0]                              ; syscall number
	//     1: jeq  #0x27, 3, 2                      ; getpid
	//     2: ret  #0x50001                         ; errno EPERM
	// allow:
	//     3: ret  #0x7fff0000                      ; allow
	// getpid: 0x7fff0000 after 3 instructions
}
