package pledgecli

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// testDefaults are fixed defaults so that results do not depend on the
// machine: 4 CPUs, 8 GiB, 100 processes.
var testDefaults = DefaultsFrom(4, true, 8<<30, 100)

// opts builds the Options Parse should return: the defaults, PROG "ls",
// and whatever edit changes.
func opts(edit func(o *Options)) *Options {
	o := &Options{
		Name:     "pledge",
		Promises: DefaultPromises,
		Memory:   8 << 30,
		Procs:    104,
		Files:    64,
		FileSize: 256000000,
		Prog:     "ls",
		Args:     []string{},
	}
	if edit != nil {
		edit(o)
	}
	return o
}

func TestParse(t *testing.T) {
	long := strings.Repeat("a", 255)
	tests := []struct {
		name string
		args []string
		want *Options
	}{
		{"no options", []string{"ls"}, opts(nil)},
		{"-n", []string{"-n", "ls"}, opts(func(o *Options) { o.Nice = true })},
		{"-q", []string{"-q", "ls"}, opts(func(o *Options) { o.Quiet = true })},
		{"-k", []string{"-k", "ls"}, opts(func(o *Options) { o.Kill = true })},
		{"-N", []string{"-N", "ls"}, opts(func(o *Options) { o.NoNormalize = true })},
		{"-V", []string{"-V", "ls"}, opts(func(o *Options) { o.NoUnveil = true })},
		{"-D takes no argument", []string{"-D", "ls", "-l"}, opts(func(o *Options) { o.NoDrop = true; o.Args = []string{"-l"} })},
		{"all flags bundled", []string{"-nqkNVD", "ls"}, opts(func(o *Options) {
			o.Nice, o.Quiet, o.Kill, o.NoNormalize, o.NoUnveil, o.NoDrop = true, true, true, true, true, true
		})},
		{"bundled flag then option with separate argument", []string{"-np", "stdio rpath", "ls"}, opts(func(o *Options) {
			o.Nice, o.Promises, o.PromisesGiven = true, "stdio rpath", true
		})},
		{"attached argument", []string{"-pstdio", "ls"}, opts(func(o *Options) { o.Promises, o.PromisesGiven = "stdio", true })},
		{"bundled with attached argument", []string{"-kpstdio", "ls"}, opts(func(o *Options) { o.Kill, o.Promises, o.PromisesGiven = true, "stdio", true })},
		{"argument may start with a dash", []string{"-p", "-k", "ls"}, opts(func(o *Options) { o.Promises, o.PromisesGiven = "-k", true })},
		{"argument may be --", []string{"-c", "--", "ls"}, opts(func(o *Options) { o.Chroot, o.HasChroot = "--", true })},
		{"-- ends options", []string{"-n", "--", "-ls", "-l"}, opts(func(o *Options) { o.Nice, o.Prog, o.Args = true, "-ls", []string{"-l"} })},
		{"lone dash is PROG", []string{"-", "x"}, opts(func(o *Options) { o.Prog, o.Args = "-", []string{"x"} })},
		{"PROG options pass through", []string{"-p", "stdio", "ls", "-l", "-p", "x", "--", "-h"}, opts(func(o *Options) {
			o.Promises, o.PromisesGiven, o.Args = "stdio", true, []string{"-l", "-p", "x", "--", "-h"}
		})},
		{"repeated -p joined by a space", []string{"-p", "stdio", "-p", "rpath wpath", "ls"}, opts(func(o *Options) {
			o.Promises, o.PromisesGiven = "stdio rpath wpath", true
		})},
		{"-p leading white space trimmed, trailing kept", []string{"-p", " \t\n\v\f\rstdio ", "-p", "  rpath", "ls"}, opts(func(o *Options) {
			o.Promises, o.PromisesGiven = "stdio  rpath", true
		})},
		{"empty -p still counts as given", []string{"-p", "", "ls"}, opts(func(o *Options) { o.Promises, o.PromisesGiven = "", true })},
		{"blank -p adds nothing", []string{"-p", "   ", "-p", "stdio", "-p", "", "ls"}, opts(func(o *Options) {
			o.Promises, o.PromisesGiven = "stdio", true
		})},
		{"-p of 255 bytes", []string{"-p", long, "ls"}, opts(func(o *Options) { o.Promises, o.PromisesGiven = long, true })},
		{"two -p totalling 255 bytes", []string{"-p", long[:253], "-p", "b", "ls"}, opts(func(o *Options) {
			o.Promises, o.PromisesGiven = long[:253]+" b", true
		})},
		{"-v PERM before the first colon", []string{"-v", "/tmp", "-v", "rwc:/var/tmp", "-v", "rw:a:b", "-v", ":/x", "-vx:", "ls"}, opts(func(o *Options) {
			o.Unveils = []UnveilFlag{{"r", "/tmp"}, {"rwc", "/var/tmp"}, {"rw", "a:b"}, {"", "/x"}, {"x", ""}}
		})},
		{"-u and -g", []string{"-u", "1000", "-g0x3e9", "ls"}, opts(func(o *Options) { o.UID, o.GID = 1000, 1001 })},
		{"-u 0 is not given", []string{"-u", "0", "ls"}, opts(nil)},
		{"-u truncated to a C int", []string{"-u", "4294968296", "ls"}, opts(func(o *Options) { o.UID = 1000 })},
		{"-u negative", []string{"-u", "-1", "ls"}, opts(func(o *Options) { o.UID = -1 })},
		{"-C", []string{"-C", "10", "ls"}, opts(func(o *Options) { o.CPUSeconds = 10 })},
		{"-P octal", []string{"-P", "0100", "ls"}, opts(func(o *Options) { o.Procs = 64 })},
		{"-O hex", []string{"-O0x20", "ls"}, opts(func(o *Options) { o.Files = 32 })},
		{"-O empty is 0", []string{"-O", "", "ls"}, opts(func(o *Options) { o.Files = 0 })},
		{"-M with unit", []string{"-M", "512MiB", "ls"}, opts(func(o *Options) { o.Memory = 512 << 20 })},
		{"-F negative", []string{"-F", "-1", "ls"}, opts(func(o *Options) { o.FileSize = -1 })},
		{"-F last wins", []string{"-F", "1k", "-F", "2k", "ls"}, opts(func(o *Options) { o.FileSize = 2048 })},
		{"-c", []string{"-c", "/jail", "ls"}, opts(func(o *Options) { o.Chroot, o.HasChroot = "/jail", true })},
		{"-c empty is given", []string{"-c", "", "ls"}, opts(func(o *Options) { o.HasChroot = true })},
		{"-T needs no PROG", []string{"-T", "pledge"}, opts(func(o *Options) { o.Test, o.HasTest, o.Prog, o.Args = "pledge", true, "", nil })},
		{"-T empty is given", []string{"-T", ""}, opts(func(o *Options) { o.HasTest, o.Prog, o.Args = true, "", nil })},
		{"-T with PROG", []string{"-Tunveil", "ls"}, opts(func(o *Options) { o.Test, o.HasTest = "unveil", true })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("pledge", tt.args, testDefaults)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.args, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.args, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a", 256)
	tests := []struct {
		name  string
		args  []string
		code  int
		msg   string
		usage bool
	}{
		{"unknown option", []string{"-x", "ls"}, 64, "pledge: illegal option -- x", true},
		{"unknown option in a bundle", []string{"-nxk", "ls"}, 64, "pledge: illegal option -- x", true},
		{"colon is not an option", []string{"-:", "ls"}, 64, "pledge: illegal option -- :", true},
		{"long options do not exist", []string{"--help"}, 64, "pledge: illegal option -- -", true},
		{"missing argument", []string{"-p"}, 64, "pledge: option requires an argument -- p", true},
		{"missing argument after a bundle", []string{"-np"}, 64, "pledge: option requires an argument -- p", true},
		{"missing command", []string{}, 64, "error: missing command", true},
		{"missing command after options", []string{"-n", "-p", "stdio"}, 64, "error: missing command", true},
		{"missing command after --", []string{"--"}, 64, "error: missing command", true},
		{"first error wins", []string{"-x", "-u", "abc"}, 64, "pledge: illegal option -- x", true},
		{"invalid integer", []string{"-u", "12abc", "-x", "ls"}, 1, "pledge: invalid integer: 12abc", false},
		{"invalid integer -g", []string{"-g", "08", "ls"}, 1, "pledge: invalid integer: 08", false},
		{"invalid integer -C", []string{"-C", "1.5", "ls"}, 1, "pledge: invalid integer: 1.5", false},
		{"invalid integer -P", []string{"-P", " ", "ls"}, 1, "pledge: invalid integer:  ", false},
		{"integer overflow -O", []string{"-O", "9223372036854775808", "ls"}, 1, "pledge: invalid integer: 9223372036854775808", false},
		{"invalid size -M", []string{"-M", "12q", "ls"}, 1, "pledge: invalid size: 12q", false},
		{"invalid size -F", []string{"-F", "", "ls"}, 1, "pledge: invalid size: ", false},
		{"size overflow", []string{"-M", "8e", "ls"}, 1, "pledge: invalid size: 8e", false},
		{"too many promises in one -p", []string{"-p", long, "ls"}, 1, "pledge: too many promises (the -p text must stay under 256 bytes)", false},
		{"too many promises over two -p", []string{"-p", long[:254], "-p", "b", "ls"}, 1, "pledge: too many promises (the -p text must stay under 256 bytes)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("pledge", tt.args, testDefaults)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v, want an *Error", tt.args, err)
			}
			if e.Code != tt.code || e.Msg != tt.msg || e.Usage != tt.usage {
				t.Errorf("Parse(%q) = {Code %d, Msg %q, Usage %v}, want {%d, %q, %v}", tt.args, e.Code, e.Msg, e.Usage, tt.code, tt.msg, tt.usage)
			}
		})
	}
}

func TestParseTooManyUnveils(t *testing.T) {
	args := make([]string, 0, 2*MaxUnveils+3)
	for range MaxUnveils {
		args = append(args, "-v", "/x")
	}
	o, err := Parse("pledge", append(args, "ls"), testDefaults)
	if err != nil || len(o.Unveils) != MaxUnveils {
		t.Fatalf("%d unveils: err %v", MaxUnveils, err)
	}
	_, err = Parse("pledge", append(args, "-v", "/y", "ls"), testDefaults)
	var e *Error
	if !errors.As(err, &e) || e.Code != ExitFailure || e.Msg != "pledge: too many unveils (at most 10000 -v options)" {
		t.Errorf("%d unveils: got %v, want exit 1 too many unveils", MaxUnveils+1, err)
	}
}

func TestParseHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"-nh", "ls"}, {"-p", "stdio", "-h", "-x"}, {"-h", "-u", "junk"}} {
		o, err := Parse("pledge", args, testDefaults)
		if !errors.Is(err, ErrHelp) || o == nil || !o.Help {
			t.Errorf("Parse(%q) = %+v, %v; want Help and ErrHelp", args, o, err)
		}
	}
	// An error before -h wins.
	if _, err := Parse("pledge", []string{"-x", "-h"}, testDefaults); errors.Is(err, ErrHelp) {
		t.Errorf("Parse(-x -h) = ErrHelp, want the unknown option error")
	}
}

func TestReport(t *testing.T) {
	usage := Usage("pledge", testDefaults)
	run := func(args ...string) (code int, stdout, stderr string) {
		_, err := Parse("pledge", args, testDefaults)
		var out, errw bytes.Buffer
		code = Report(&out, &errw, usage, err)
		return code, out.String(), errw.String()
	}
	t.Run("-h prints usage on stdout, exit 0", func(t *testing.T) {
		code, out, errs := run("-h")
		if code != 0 || out != usage || errs != "" {
			t.Errorf("code %d, stdout %q, stderr %q", code, out, errs)
		}
	})
	t.Run("bad option prints usage on stderr, exit 64", func(t *testing.T) {
		code, out, errs := run("-Z", "ls")
		if code != 64 || out != "" || errs != "pledge: illegal option -- Z\n"+usage {
			t.Errorf("code %d, stdout %q, stderr %q", code, out, errs)
		}
	})
	t.Run("missing argument prints usage on stderr, exit 64", func(t *testing.T) {
		code, out, errs := run("-v")
		if code != 64 || out != "" || errs != "pledge: option requires an argument -- v\n"+usage {
			t.Errorf("code %d, stdout %q, stderr %q", code, out, errs)
		}
	})
	t.Run("missing command prints usage on stderr, exit 64", func(t *testing.T) {
		code, out, errs := run("-n")
		if code != 64 || out != "" || errs != "error: missing command\n"+usage {
			t.Errorf("code %d, stdout %q, stderr %q", code, out, errs)
		}
	})
	t.Run("invalid integer: message only, exit 1", func(t *testing.T) {
		code, out, errs := run("-P", "x", "ls")
		if code != 1 || out != "" || errs != "pledge: invalid integer: x\n" {
			t.Errorf("code %d, stdout %q, stderr %q", code, out, errs)
		}
	})
	t.Run("success", func(t *testing.T) {
		code, out, errs := run("ls")
		if code != 0 || out != "" || errs != "" {
			t.Errorf("code %d, stdout %q, stderr %q", code, out, errs)
		}
	})
	t.Run("foreign error", func(t *testing.T) {
		var out, errw bytes.Buffer
		if code := Report(&out, &errw, usage, errors.New("boom")); code != 1 || errw.String() != "boom\n" {
			t.Errorf("code %d, stderr %q", code, errw.String())
		}
	})
}

func TestParseUnveilFlag(t *testing.T) {
	tests := []struct {
		in   string
		want UnveilFlag
	}{
		{"/etc", UnveilFlag{"r", "/etc"}},
		{"rw:/tmp", UnveilFlag{"rw", "/tmp"}},
		{"rwxc:/a:b", UnveilFlag{"rwxc", "/a:b"}},
		{":/x", UnveilFlag{"", "/x"}},
		{"", UnveilFlag{"r", ""}},
	}
	for _, tt := range tests {
		if got := ParseUnveilFlag(tt.in); got != tt.want {
			t.Errorf("ParseUnveilFlag(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestArgv(t *testing.T) {
	o, err := Parse("pledge", []string{"-p", "stdio", "echo", "-n", "hi"}, testDefaults)
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Argv(); !reflect.DeepEqual(got, []string{"echo", "-n", "hi"}) {
		t.Errorf("Argv = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("-np\x00stdio rpath\x00ls\x00-l")
	f.Add("-v\x00rw:/tmp\x00-M\x004g\x00--\x00-x")
	f.Add("-u0x10\x00-T\x00pledge")
	f.Add("-p")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		o, err := Parse("pledge", args, testDefaults)
		if err != nil {
			if errors.Is(err, ErrHelp) {
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Msg == "" || (e.Code != 1 && e.Code != 64) {
				t.Fatalf("Parse(%q): bad error %#v", args, err)
			}
			return
		}
		if o.Prog == "" && !o.HasTest {
			// PROG may only be empty when it was typed as "".
			if len(args) == 0 || args[len(args)-1-len(o.Args)] != "" {
				t.Fatalf("Parse(%q): no PROG and no error", args)
			}
		}
		if len(o.Promises) >= MaxPromiseText {
			t.Fatalf("Parse(%q): promises %d bytes", args, len(o.Promises))
		}
		if n := len(o.Args); n > 0 && !reflect.DeepEqual(o.Args, args[len(args)-n:]) {
			t.Fatalf("Parse(%q): ARGS %q are not the tail of the command line", args, o.Args)
		}
	})
}
