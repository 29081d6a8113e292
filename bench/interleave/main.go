// Command interleave times the start-up of several commands fairly on a
// noisy machine: each round runs every command once, in a fresh random
// order, so that drifting load hits all of them alike, and it reports
// each command's median and quartiles and its ratio (of medians) to the
// first command and to a named reference.
//
//	go run ./bench/interleave -runs 500 -ref bwrap \
//		true=/bin/true 'bwrap=bwrap --ro-bind / / /bin/true' ...
//
// Each argument is NAME=COMMAND; COMMAND is split on spaces, with single
// quotes grouping words ('stdio rpath'). Output is a Markdown table.
// Commands run with stdin, stdout and stderr on /dev/null; a command that
// fails is reported and stops the run.
//
// With -evict, each command's executable (a path with a slash) is first
// written back and dropped from the page cache, so that it is read from
// disk as an installed binary would be: how a file that was just written
// sits in the page cache (the linker's output against a copy) changed
// the start-up of the same pledge binary by up to 10% here.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

type command struct {
	name  string
	argv  []string
	times []time.Duration
}

func main() {
	runs := flag.Int("runs", 300, "rounds (each runs every command once)")
	warmup := flag.Int("warmup", 20, "rounds run first and not counted")
	ref := flag.String("ref", "", "name of a second reference for the ratios (the first command is the other)")
	evict := flag.Bool("evict", false, "drop each executable given by path from the page cache first")
	flag.Parse()
	var cmds []*command
	for _, a := range flag.Args() {
		name, line, ok := strings.Cut(a, "=")
		if !ok || name == "" || line == "" {
			fmt.Fprintf(os.Stderr, "interleave: %q is not NAME=COMMAND\n", a)
			os.Exit(2)
		}
		cmds = append(cmds, &command{name: name, argv: split(line)})
	}
	if len(cmds) == 0 {
		fmt.Fprintln(os.Stderr, "usage: interleave [-runs N] [-warmup N] [-ref NAME] NAME=COMMAND...")
		os.Exit(2)
	}
	if *evict {
		for _, c := range cmds {
			if strings.Contains(c.argv[0], "/") {
				if err := dropCache(c.argv[0]); err != nil {
					fmt.Fprintln(os.Stderr, "interleave: -evict:", err)
					os.Exit(1)
				}
			}
		}
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "interleave:", err)
		os.Exit(1)
	}
	order := make([]int, len(cmds))
	for i := range order {
		order[i] = i
	}
	for round := 0; round < *warmup+*runs; round++ {
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			c := cmds[i]
			cmd := exec.Command(c.argv[0], c.argv[1:]...)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
			start := time.Now()
			err := cmd.Run()
			d := time.Since(start)
			if err != nil {
				fmt.Fprintf(os.Stderr, "interleave: %s (%q): %v\n", c.name, c.argv, err)
				os.Exit(1)
			}
			if round >= *warmup {
				c.times = append(c.times, d)
			}
		}
	}
	median := func(c *command) time.Duration { return quantile(c.times, 0.5) }
	base := median(cmds[0])
	var refMed time.Duration
	for _, c := range cmds[1:] {
		if c.name == *ref {
			refMed = median(c)
		}
	}
	fmt.Printf("| command | median ms | p25–p75 ms | × %s |", cmds[0].name)
	if refMed > 0 {
		fmt.Printf(" × %s |", *ref)
	}
	fmt.Printf("\n|---|---|---|---|")
	if refMed > 0 {
		fmt.Print("---|")
	}
	fmt.Println()
	for _, c := range cmds {
		m := median(c)
		fmt.Printf("| %s | %.2f | %.2f–%.2f | %.2f |", c.name, ms(m), ms(quantile(c.times, 0.25)), ms(quantile(c.times, 0.75)), float64(m)/float64(base))
		if refMed > 0 {
			fmt.Printf(" %.2f |", float64(m)/float64(refMed))
		}
		fmt.Println()
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// quantile returns the q-quantile of ts (nearest rank).
func quantile(ts []time.Duration, q float64) time.Duration {
	s := slices.Clone(ts)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// split splits a command line on spaces; single quotes group words.
func split(line string) []string {
	var out []string
	var cur strings.Builder
	quoted, have := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			quoted, have = !quoted, true
		case r == ' ' && !quoted:
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}

// dropCache writes path back to disk and drops its pages from the page
// cache (POSIX_FADV_DONTNEED).
func dropCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		return fmt.Errorf("fdatasync %s: %w", path, err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("fadvise %s: %w", path, err)
	}
	return nil
}
