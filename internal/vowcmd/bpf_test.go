package vowcmd

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vow-sandbox/vow/sandbox/bpf"
	"github.com/vow-sandbox/vow/sandbox/filter"
	"github.com/vow-sandbox/vow/sandbox/promise"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

var update = flag.Bool("update", false, "rewrite golden files")

func runBpf(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := Bpf(args, &out, &errb)
	return out.String(), errb.String(), code
}

// TestBpfGolden pins listings of `vow bpf` in testdata/*.golden
// (go test -update rewrites them).
func TestBpfGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"stdio_amd64", []string{"-p", "stdio", "-q", "--arch", "amd64", "--pid", "1000"}},
		{"stdio_rpath_kill_arm64", []string{"-p", "stdio rpath", "-k", "-q", "--arch", "arm64", "--pid", "1000"}},
		{"exec_amd64", []string{"-p", "stdio inet exec", "-x", "stdio", "--arch", "amd64", "--pid", "1000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := runBpf(tt.args...)
			if code != ExitOK || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			path := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if out != string(want) {
				t.Errorf("listing differs from %s (go test -update rewrites it):\n%s", path, out)
			}
		})
	}
}

func TestBpfRaw(t *testing.T) {
	out, errs, code := runBpf("-p", "stdio rpath inet", "--raw", "-k", "--arch", "arm64")
	if code != ExitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	prog, err := bpf.Decode([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	want, err := filter.Compile(&filter.Policy{Arch: sysno.ARM64, Promises: promise.MustParse("stdio rpath inet"),
		Penalty: filter.KillProcess, Notify: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) != len(want.Insns) {
		t.Fatalf("raw output has %d instructions, Compile %d", len(prog), len(want.Insns))
	}
	for i := range prog {
		if prog[i] != want.Insns[i] {
			t.Fatalf("instruction %d differs", i)
		}
	}
	if err := bpf.ValidateSeccomp(prog); err != nil {
		t.Fatal(err)
	}
}

func TestBpfErrors(t *testing.T) {
	tests := []struct {
		args    []string
		code    int
		stderr  string
		stdout  string
		comment string
	}{
		{[]string{"-p", "stdoi"}, ExitUsage, `unknown promise "stdoi" (did you mean "stdio"?)`, "", "typo"},
		{[]string{"-p", "stdio", "-x", "inet"}, ExitOK, "", "installed just before exec", "no exec: no subset check"},
		{[]string{"-p", "stdio exec", "-x", "stdio inet"}, ExitUsage, "not a subset", "", "wider execpromises"},
		{[]string{"-x", "bogus"}, ExitUsage, `-x: unknown promise "bogus"`, "", "bad execpromises"},
		{[]string{"-z"}, ExitUsage, "flag provided but not defined: -z", "", "unknown flag"},
		{[]string{"extra"}, ExitUsage, `unexpected argument "extra"`, "", "argument"},
		{[]string{"--arch", "mips"}, ExitUsage, "unsupported architecture", "", "arch"},
		{[]string{"-h"}, ExitOK, "", "usage: vow bpf", "help"},
		{[]string{"-p", "getpw"}, ExitUsage, "unveil /etc/passwd", "", "OpenBSD promise"},
	}
	for _, tt := range tests {
		out, errs, code := runBpf(tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.stderr) || !strings.Contains(out, tt.stdout) {
			t.Errorf("%s: vow bpf %q: exit %d, stdout %.60q, stderr %q", tt.comment, tt.args, code, out, errs)
		}
	}
}
