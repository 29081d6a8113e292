package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestHello runs the program, which is README's embedding example.
func TestHello(t *testing.T) {
	cmd := exec.Command("go", "run", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "[hello, gopher] <nil>\n" {
		t.Errorf("go run .: %v\n%s", err, out)
	}
}

// TestREADME checks that README's Embedding section shows this program.
func TestREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Embedding")
	if !ok {
		t.Fatal("README.md has no Embedding section")
	}
	_, code, _ := strings.Cut(section, "```go\n")
	code, _, _ = strings.Cut(code, "```")
	if code != string(src) {
		t.Errorf("README.md's Embedding example differs from examples/hello/main.go:\n%s", code)
	}
	if n := strings.Count(code, "\n"); n >= 20 {
		t.Errorf("the example has %d lines; the promise is under 20", n)
	}
}
