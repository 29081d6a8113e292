package pledgecli

import (
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (go test -update rewrites it):\n%s", name, path, got)
	}
}

func TestUsageGolden(t *testing.T) {
	golden(t, "usage.golden", Usage("pledge", testDefaults))
	golden(t, "usage-nosysinfo.golden", Usage("vow exec", DefaultsFrom(2, false, 0, 0)))
}

func TestDefaultsFrom(t *testing.T) {
	d := DefaultsFrom(4, true, 16<<30, 300)
	if d.Memory != 16<<30 || d.Procs != 304 || d.Files != 64 || d.FileSize != 256000000 {
		t.Errorf("with sysinfo: %+v", d)
	}
	d = DefaultsFrom(4, false, 16<<30, 300)
	if d.Memory != 4<<30 || d.Procs != 400 {
		t.Errorf("without sysinfo: %+v", d)
	}
}

func TestSystemDefaults(t *testing.T) {
	d := SystemDefaults()
	if !d.SysinfoOK {
		t.Skip("sysinfo failed on this machine")
	}
	if d.CPUs != runtime.NumCPU() || d.Memory <= 0 || d.Procs <= int64(d.CPUs) {
		t.Errorf("SystemDefaults = %+v", d)
	}
	// -h shows them.
	u := Usage("pledge", d)
	for _, want := range []string{formatSize(d.Memory) + ", total RAM", "[default: 64]", "256000000 (244.1m)"} {
		if !strings.Contains(u, want) {
			t.Errorf("usage lacks %q:\n%s", want, u)
		}
	}
}

func TestFormatSize(t *testing.T) {
	tests := map[int64]string{
		0:         "0",
		1023:      "1023",
		1024:      "1024 (1k)",
		4 << 30:   "4294967296 (4g)",
		256000000: "256000000 (244.1m)",
		-2048:     "-2048 (-2k)",
	}
	for in, want := range tests {
		if got := formatSize(in); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", in, got, want)
		}
	}
}
