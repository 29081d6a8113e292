package repl

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/vow-sandbox/vow/sandbox/promise"
)

// replCommand is one of the REPL's own commands, typed as .name.
type replCommand struct {
	name, args, help string
	run              func(s *session, args []string) (exit bool, status int)
}

var commands []replCommand

func init() {
	commands = []replCommand{
		{"help", "", "this list", (*session).cmdHelp},
		{"promises", "[NAME...]", "the promises and what each allows; with names, every system call and argument rule", (*session).cmdPromises},
		{"exit", "", "leave (as Ctrl-D)", func(*session, []string) (bool, int) { return true, 0 }},
	}
}

func commandNames() []string {
	var ns []string
	for _, c := range commands {
		ns = append(ns, "."+c.name)
	}
	return ns
}

// commandLine matches a line that is a REPL command rather than Lua (a
// Lua line cannot start with a dot followed by a letter).
var commandLine = regexp.MustCompile(`^\s*\.[A-Za-z]`)

func isCommand(line string) bool { return commandLine.MatchString(line) }

// command runs a REPL command line.
func (s *session) command(line string) (exit bool, status int) {
	f := strings.Fields(strings.TrimSpace(line))
	name := strings.TrimPrefix(f[0], ".")
	for _, c := range commands {
		if c.name == name {
			return c.run(s, f[1:])
		}
	}
	var near []string
	for _, c := range commands {
		if strings.HasPrefix(c.name, name) || strings.HasPrefix(name, c.name) {
			near = append(near, "."+c.name)
		}
	}
	if len(near) > 0 {
		s.note("unknown command .%s (did you mean %s?)", name, strings.Join(near, " or "))
	} else {
		s.note("unknown command .%s (.help lists the commands)", name)
	}
	return false, 0
}

func (s *session) cmdHelp([]string) (bool, int) {
	var b strings.Builder
	b.WriteString("Commands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-22s %s\n", strings.TrimSpace("."+c.name+" "+c.args), c.help)
	}
	b.WriteString(`Lua:
  =expr or expr          print the values (tables in full, unix.Errno with name and doc)
  statement              run it; an unfinished chunk continues on the ">> " prompt
  local x = 1            lasts for that line only (as in lua); use globals to keep values
Keys:
  Tab                    complete globals, fields (unix.pl → unix.pledge), methods,
                         and promise names inside unix.pledge("...")
  Ctrl-C                 cancel the line, or interrupt the running code
  Ctrl-D                 leave (on an empty line)
  ↑ ↓ Ctrl-R             history (saved in the history file)
Sandbox:
  unix.pledge("stdio rpath")   restrict this process; the prompt shows the promises in
                               force. A forbidden call fails with EPERM here (the default
                               mode at this prompt is unix.PLEDGE_PENALTY_RETURN_EPERM).
                               Without "tty", line editing stops working after the pledge.
  unix.unveil(path, "rwxc"), then unix.unveil()   restrict the files; the prompt shows +unveil
`)
	fmt.Fprint(s.out, b.String())
	return false, 0
}

// cmdPromises lists the promises: one summary line each, or with names
// every system call of those promises with its argument rule.
func (s *session) cmdPromises(args []string) (bool, int) {
	set, pledged := s.opts.Pledged()
	if len(args) == 0 {
		fmt.Fprint(s.out, promiseSummary(set, pledged, 78))
		return false, 0
	}
	for _, a := range args {
		a = strings.ToLower(a)
		if a == "error" {
			fmt.Fprint(s.out, "error: not a promise; it makes every violation of this pledge return EPERM,\n"+
				"whatever the mode (OpenBSD's \"error\").\n")
			continue
		}
		p, ok := promise.Lookup(a)
		if !ok {
			_, err := promise.Parse(a)
			s.note("%v", err)
			continue
		}
		fmt.Fprint(s.out, promiseDetail(p, set, pledged, 78))
	}
	return false, 0
}

// promiseSummary is .promises without arguments: a header and one line
// per promise, cut to width.
func promiseSummary(set promise.Set, pledged bool, width int) string {
	var b strings.Builder
	if pledged {
		fmt.Fprintf(&b, "In force: %q (marked *); anything else fails with EPERM here.\n", set.String())
	} else {
		b.WriteString("Not pledged: every system call is allowed. unix.pledge(\"...\") restricts to these:\n")
	}
	for _, p := range promise.Set(promise.All).Promises() {
		mark := " "
		if pledged && set.Has(p) {
			mark = "*"
		}
		calls := callNames(p)
		line := fmt.Sprintf("%s %-9s %3d: %s", mark, p, len(calls), strings.Join(calls, " "))
		if len(line) > width {
			cut := strings.LastIndexByte(line[:width-1], ' ')
			line = line[:cut] + " …"
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("The Go runtime's own needs are allowed under any pledge.\n" +
		".promises NAME... lists every system call of those promises with its argument rules.\n")
	return b.String()
}

// callNames lists the distinct system calls of promise p in table order.
func callNames(p promise.Promise) []string {
	seen := map[string]bool{}
	var ns []string
	for _, e := range promise.Entries(p) {
		if !seen[e.Syscall] {
			seen[e.Syscall] = true
			ns = append(ns, e.Syscall)
		}
	}
	return ns
}

// promiseDetail is .promises NAME: the calls allowed with any
// arguments, wrapped, then one line per call with an argument rule.
func promiseDetail(p promise.Promise, set promise.Set, pledged bool, width int) string {
	var b strings.Builder
	state := ""
	if pledged {
		state = " (not in force)"
		if set.Has(p) {
			state = " (in force)"
		}
	}
	var free []string
	rules := map[string][]string{}
	var ruled []string
	for _, e := range promise.Entries(p) {
		if e.Rule == nil {
			free = append(free, e.Syscall)
			continue
		}
		if _, ok := rules[e.Syscall]; !ok {
			ruled = append(ruled, e.Syscall)
		}
		rules[e.Syscall] = append(rules[e.Syscall], fmt.Sprint(e.Rule))
	}
	n := len(callNames(p))
	plural := "s"
	if n == 1 {
		plural = ""
	}
	fmt.Fprintf(&b, "%s%s: %d system call%s\n", p, state, n, plural)
	if len(free) > 0 {
		b.WriteString("  with any arguments:\n")
		b.WriteString(wrap(free, "    ", width, "    "))
	}
	if len(ruled) > 0 {
		b.WriteString("  only when the arguments pass:\n")
		sort.Strings(ruled)
		for _, c := range ruled {
			b.WriteString(breakAfter(fmt.Sprintf("    %-10s %s", c, strings.Join(rules[c], " || ")), ",", width, strings.Repeat(" ", 15)))
		}
	}
	return b.String()
}

// wrap joins words into lines of at most width columns (longer words
// stay whole): the first starting with indent, the others with more.
func wrap(words []string, indent string, width int, more string) string {
	var b strings.Builder
	line, start := indent, indent
	for _, w := range words {
		if len(line) > len(start) && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) > width {
			b.WriteString(line + "\n")
			line, start = more, more
		}
		if len(line) > len(start) {
			line += " "
		}
		line += w
	}
	if len(line) > len(start) {
		b.WriteString(line + "\n")
	}
	return b.String()
}

// breakAfter cuts line into lines of at most width columns after
// occurrences of sep (a long list of values), continuing with indent.
func breakAfter(line, sep string, width int, indent string) string {
	var b strings.Builder
	for len(line) > width {
		cut := strings.LastIndex(line[:width], sep)
		if cut <= len(indent) {
			break
		}
		b.WriteString(line[:cut+len(sep)] + "\n")
		line = indent + strings.TrimLeft(line[cut+len(sep):], " ")
	}
	b.WriteString(line + "\n")
	return b.String()
}
