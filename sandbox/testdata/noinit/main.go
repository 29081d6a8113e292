// Command noinit starts a sandbox.Cmd without calling sandbox.Init first
// in main: the mistake TestMissingInit checks Start reports.
package main

import (
	"fmt"
	"os"

	"github.com/vow-sandbox/vow/sandbox"
)

func main() {
	p := "stdio"
	// Dir makes Start use the re-executed launcher (a direct fork
	// needs no Init).
	err := (&sandbox.Cmd{Path: "/bin/true", Promises: &p, Dir: "/"}).Run()
	fmt.Println(err)
	if err == nil {
		os.Exit(0)
	}
	os.Exit(1)
}
