package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vow-sandbox/vow/host"
	"github.com/vow-sandbox/vow/sandbox"
)

var testExe string // the worker binary; "" means this test binary

func TestMain(m *testing.M) {
	host.Init()
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if cgoEnabled && sandbox.LandlockABI() > 0 && sandbox.LandlockABI() < 8 {
		// A cgo test binary (go test -race) cannot be a sandboxed worker
		// (see package host); build this program without cgo instead.
		dir, err := os.MkdirTemp("", "plugind-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		testExe = filepath.Join(dir, "plugind")
		cmd := exec.Command("go", "build", "-o", testExe, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building a CGO_ENABLED=0 plugind: %v\n%s", err, out)
			return 1
		}
	}
	return m.Run()
}

type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func newTestServer(t *testing.T, dir string, l *logs) *httptest.Server {
	t.Helper()
	s, err := NewServer(Options{Dir: dir, Workers: 2, Promises: "stdio", Memory: 32 << 20, CPU: 5 * time.Second,
		Timeout: 3 * time.Second, Executable: testExe, Logf: l.logf}) // hog must reach Memory first, also under -race on a loaded machine
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })
	return ts
}

func call(t *testing.T, ts *httptest.Server, path string, args ...any) (int, map[string]any) {
	t.Helper()
	if args == nil {
		args = []any{}
	}
	body, _ := json.Marshal(args)
	resp, err := http.Post(ts.URL+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v: %s", path, err, b)
	}
	return resp.StatusCode, out
}

func TestPlugins(t *testing.T) {
	var l logs
	ts := newTestServer(t, "plugins", &l)
	tests := []struct {
		path string
		args []any
		want any
	}{
		{"/call/greet/hello", []any{"vow"}, []any{"hello, vow"}},
		{"/call/greet/hello", nil, []any{"hello, world"}},
		{"/call/greet/shout", []any{"hey"}, []any{"HEY!"}},
		{"/call/words/count", []any{"The cat and the hat"}, []any{5.0, map[string]any{"the": 2.0, "cat": 1.0, "and": 1.0, "hat": 1.0}}},
		{"/call/nosy/peek", nil, []any{"open /etc/passwd: operation not permitted", 1.0}},
		{"/call/nosy/env", nil, []any{nil, nil}},
	}
	for _, tt := range tests {
		status, out := call(t, ts, tt.path, tt.args...)
		if status != http.StatusOK || !reflect.DeepEqual(out["results"], tt.want) {
			t.Errorf("%s %v: %d %v, want %v", tt.path, tt.args, status, out, tt.want)
		}
	}
	// The counter lives in the host: both workers see it.
	for i := 1; i <= 5; i++ {
		if _, out := call(t, ts, "/call/counter/incr", "visits"); !reflect.DeepEqual(out["results"], []any{float64(i)}) {
			t.Errorf("incr #%d: %v", i, out)
		}
	}
	l.mu.Lock()
	if len(l.lines) != 5 || l.lines[4] != "plugin counter: visits is now 5" {
		t.Errorf("host.log lines: %q", l.lines)
	}
	l.mu.Unlock()
	resp, err := http.Get(ts.URL + "/plugins")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `["counter","greet","nosy","words"]`) {
		t.Errorf("GET /plugins: %s", b)
	}
}

func TestMisbehavingPlugin(t *testing.T) {
	ts := newTestServer(t, "testdata/plugins", &logs{})
	tests := []struct {
		path   string
		status int
		kind   string
	}{
		{"/call/bad/spin", http.StatusGatewayTimeout, "timeout"},
		{"/call/bad/crash", http.StatusBadGateway, "exit"},
		{"/call/bad/hog", http.StatusBadGateway, "memory"},
		{"/call/bad/fail", http.StatusUnprocessableEntity, "error"},
		{"/call/bad/nosuch", http.StatusUnprocessableEntity, "error"},
		{"/call/nosuch/f", http.StatusNotFound, "request"},
	}
	for _, tt := range tests {
		status, out := call(t, ts, tt.path)
		e, _ := out["error"].(map[string]any)
		if status != tt.status || e["kind"] != tt.kind {
			t.Errorf("%s: %d %v, want %d kind %s", tt.path, status, out, tt.status, tt.kind)
		}
		if _, out := call(t, ts, "/call/bad/ok"); !reflect.DeepEqual(out["results"], []any{"still here"}) {
			t.Errorf("after %s: %v", tt.path, out)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "100": 100, "64MiB": 64 << 20, "2KiB": 2048, "1GiB": 1 << 30} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := parseBytes("12MB"); err == nil {
		t.Error("parseBytes(12MB) succeeded")
	}
}
