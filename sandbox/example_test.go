package sandbox_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"

	"github.com/vow-sandbox/vow/sandbox"
)

func ExampleLandlockABI() {
	if sandbox.LandlockABI() == 0 {
		fmt.Println("this kernel cannot enforce unveil")
	}
}

// A program gives up the filesystem it does not need: from the commit on,
// it and everything it starts see only these paths.
func ExampleUnveil() {
	for _, u := range []struct{ path, perms string }{
		{"/etc", "r"},             // read configuration
		{"/var/log/app.log", "w"}, // append to (or truncate) one existing file
		{"/tmp/work", "rwc"},      // create, use and remove files in one tree
	} {
		if err := sandbox.Unveil(u.path, u.perms); err != nil {
			log.Fatal(err)
		}
	}
	if err := sandbox.UnveilCommit(); err != nil {
		log.Fatal(err)
	}
	_, err := os.ReadFile("/root/.ssh/id_ed25519")
	fmt.Println(errors.Is(err, fs.ErrPermission))
}

// A launcher restricts only the program it starts: it enforces the rules
// on one locked thread and starts the child from there.
func ExampleRuleset() {
	rs, err := sandbox.NewRuleset(sandbox.UnveilOptions{Strict: true})
	if err != nil {
		log.Fatal(err)
	}
	defer rs.Close()
	for _, u := range []struct{ path, perms string }{
		{"/usr", "rx"}, // ls, its loader and its libraries
		{"/etc", "r"},
	} {
		if err := rs.Add(u.path, u.perms); err != nil {
			log.Fatal(err)
		}
	}
	cmd := exec.Command("/usr/bin/ls", "/etc", "/home")
	// Hand over open files: with nil ones os/exec would open /dev/null on
	// the restricted thread.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	started := make(chan error)
	go func() {
		// RestrictThread keeps this goroutine on its thread, which ends
		// with it; the rest of the program is not restricted.
		if err := rs.RestrictThread(); err != nil {
			started <- err
			return
		}
		started <- cmd.Start()
	}()
	if err := <-started; err != nil {
		log.Fatal(err)
	}
	// ls lists /etc and fails on /home.
	_ = cmd.Wait()
}
