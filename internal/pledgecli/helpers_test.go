package pledgecli

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	staticOnce sync.Once
	staticDir  string
	staticPath string
	staticErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if staticDir != "" {
		os.RemoveAll(staticDir)
	}
	os.Exit(code)
}

// staticProg builds (once per test binary) a tiny Go program with
// CGO_ENABLED=0, i.e. a static ET_EXEC ELF, and returns its path.
func staticProg(t *testing.T) string {
	t.Helper()
	staticOnce.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		staticDir, staticErr = os.MkdirTemp("", "pledgecli-static-")
		if staticErr != nil {
			return
		}
		os.Chmod(staticDir, 0o755)
		src := filepath.Join(staticDir, "main.go")
		if staticErr = os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); staticErr != nil {
			return
		}
		staticPath = filepath.Join(staticDir, "static")
		cmd := exec.Command(gobin, "build", "-o", staticPath, src)
		cmd.Dir = staticDir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GO111MODULE=off", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			staticErr = &buildError{err, string(out)}
		}
	})
	if staticErr != nil {
		t.Skipf("cannot build a static Go program: %v", staticErr)
	}
	return staticPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// dynamicProg is a dynamically linked system program.
func dynamicProg(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/bin/true", "/usr/bin/true", "/bin/ls"} {
		if Classify(p).Kind == KindDynamic {
			return p
		}
	}
	t.Skip("no dynamically linked /bin/true or /bin/ls on this machine")
	return ""
}

// writeFile writes an executable file in dir and returns its path.
func writeFile(t *testing.T, dir, name string, data []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}
