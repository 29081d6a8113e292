package pledgecli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// planFor parses args and plans them in env.
func planFor(t *testing.T, env Env, args ...string) (*Plan, error) {
	t.Helper()
	o, err := Parse("pledge", args, testDefaults)
	if err != nil {
		t.Fatalf("Parse(%q): %v", args, err)
	}
	return NewPlan(o, env)
}

func testEnv() Env {
	return Env{
		Environ:  []string{"PATH=/usr/bin:/bin", "HOME=/home/u"},
		Landlock: true,
		Arch:     "x86_64",
		Exists:   func(string) bool { return true },
	}
}

func TestEffectivePromises(t *testing.T) {
	tests := []struct {
		name     string
		user     string
		strategy Kind
		want     string
	}{
		{"default, static", "stdio rpath", KindStatic, "stdio rpath exec"},
		{"default, dynamic", "stdio rpath", KindDynamic, "stdio rpath exec prot_exec"},
		{"stdio, static", "stdio", KindStatic, "stdio exec"},
		{"stdio, dynamic", "stdio", KindDynamic, "stdio exec rpath prot_exec"},
		{"stdio, APE", "stdio", KindAPE, "stdio exec rpath prot_exec"},
		{"empty, static", "", KindStatic, "exec"},
		{"empty, dynamic", "", KindDynamic, "exec rpath prot_exec"},
		{"already there, any case", "STDIO Exec RPATH Prot_Exec", KindDynamic, "STDIO Exec RPATH Prot_Exec"},
		{"separators as pledge() splits them", "stdio\texec\nrpath\rprot_exec", KindDynamic, "stdio\texec\nrpath\rprot_exec"},
		{"a longer name is not the promise", "execx", KindStatic, "execx exec"},
	}
	for _, tt := range tests {
		got, ok := EffectivePromises(tt.user, tt.strategy)
		if !ok || got != tt.want {
			t.Errorf("%s: EffectivePromises(%q, %v) = %q, %v; want %q", tt.name, tt.user, tt.strategy, got, ok, tt.want)
		}
	}
	// 250 bytes + " exec" = 255: fits; 251 + 5 = 256: does not.
	for n, ok := range map[int]bool{250: true, 251: false} {
		user := "stdio" + strings.Repeat(" ", n-5)
		if _, got := EffectivePromises(user, KindStatic); got != ok {
			t.Errorf("%d bytes of promises + exec: ok = %v, want %v", n, got, ok)
		}
	}
}

func TestHasPromise(t *testing.T) {
	tests := []struct {
		text, name string
		want       bool
	}{
		{"stdio rpath", "rpath", true},
		{"stdio rpath", "path", false},
		{"  STDIO  ", "stdio", true},
		{"stdio,rpath", "rpath", false}, // a comma is not a separator
		{"", "stdio", false},
	}
	for _, tt := range tests {
		if got := HasPromise(tt.text, tt.name); got != tt.want {
			t.Errorf("HasPromise(%q, %q) = %v", tt.text, tt.name, got)
		}
	}
}

func TestNewPlanPromises(t *testing.T) {
	static := staticProg(t)
	dynamic := dynamicProg(t)
	dir := t.TempDir()
	script := writeFile(t, dir, "script.sh", []byte("#!/bin/sh\nexit 0\n"), 0o755)
	staticScript := writeFile(t, dir, "static.sh", []byte("#!"+static+"\n"), 0o755)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"static, no -p", []string{static}, "stdio rpath exec"},
		{"static, -p stdio", []string{"-p", "stdio", static}, "stdio exec"},
		{"static, -p ''", []string{"-p", "", static}, "exec"},
		{"dynamic, no -p", []string{dynamic}, "stdio rpath exec prot_exec"},
		{"dynamic, -p stdio", []string{"-p", "stdio", dynamic}, "stdio exec rpath prot_exec"},
		{"dynamic, -p with exec", []string{"-p", "stdio exec", dynamic}, "stdio exec rpath prot_exec"},
		{"#!/bin/sh script is dynamic", []string{"-p", "stdio", script}, "stdio exec rpath prot_exec"},
		{"script with a static interpreter is static", []string{"-p", "stdio", staticScript}, "stdio exec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := planFor(t, testEnv(), tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if p.Promises != tt.want {
				t.Errorf("Promises = %q, want %q", p.Promises, tt.want)
			}
			o, _ := Parse("pledge", tt.args, testDefaults)
			if p.UserPromises != o.Promises {
				t.Errorf("UserPromises = %q, want %q", p.UserPromises, o.Promises)
			}
		})
	}
}

func TestNewPlan(t *testing.T) {
	static := staticProg(t)
	t.Run("argv, penalty, logging", func(t *testing.T) {
		p, err := planFor(t, testEnv(), "-p", "stdio", static, "-x", "y")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p.Argv, []string{static, "-x", "y"}) || p.Penalty != PenaltyReturnEPERM || !p.Log {
			t.Errorf("got Argv %q, Penalty %d, Log %v", p.Argv, p.Penalty, p.Log)
		}
		if p.Program.Path != static {
			t.Errorf("Program.Path = %q", p.Program.Path)
		}
		p, _ = planFor(t, testEnv(), "-kq", static)
		if p.Penalty != PenaltyKillProcess || p.Log {
			t.Errorf("-kq: Penalty %d, Log %v", p.Penalty, p.Log)
		}
	})
	t.Run("PROG found in PATH, argv keeps the name", func(t *testing.T) {
		env := testEnv()
		env.Environ = []string{"PATH=" + filepath.Dir(static)}
		p, err := planFor(t, env, filepath.Base(static), "a")
		if err != nil {
			t.Fatal(err)
		}
		if p.Program.Path != static || !reflect.DeepEqual(p.Argv, []string{filepath.Base(static), "a"}) {
			t.Errorf("Path %q, Argv %q", p.Program.Path, p.Argv)
		}
	})
	t.Run("PROG not found", func(t *testing.T) {
		_, err := planFor(t, testEnv(), "no-such-prog-here")
		var e *Error
		if !errors.As(err, &e) || e.Code != ExitNotFound ||
			e.Msg != "pledge: no-such-prog-here: no such file or directory (searched $PATH: /usr/bin:/bin)" {
			t.Errorf("got %#v", err)
		}
	})
	t.Run("PROG not executable", func(t *testing.T) {
		f := writeFile(t, t.TempDir(), "f", []byte("x"), 0o644)
		_, err := planFor(t, testEnv(), f)
		var e *Error
		if !errors.As(err, &e) || e.Code != ExitNotFound || e.Msg != "pledge: "+f+": permission denied" {
			t.Errorf("got %#v", err)
		}
	})
	t.Run("CheckPromises rejects: exit 21", func(t *testing.T) {
		env := testEnv()
		env.CheckPromises = func(s string) error {
			if s == "stdoi" {
				return fmt.Errorf("unknown promise 'stdoi' (did you mean 'stdio'?)")
			}
			return nil
		}
		_, err := planFor(t, env, "-p", "stdoi", static)
		var e *Error
		if !errors.As(err, &e) || e.Code != ExitBadPromises || e.Msg != "pledge: unknown promise 'stdoi' (did you mean 'stdio'?)" {
			t.Errorf("got %#v", err)
		}
		if _, err := planFor(t, env, "-p", "stdio", static); err != nil {
			t.Errorf("valid promises: %v", err)
		}
	})
	t.Run("too many promises after the additions: exit 1", func(t *testing.T) {
		_, err := planFor(t, testEnv(), "-p", "stdio"+strings.Repeat(" ", 246), static)
		var e *Error
		if !errors.As(err, &e) || e.Code != ExitFailure || !strings.HasPrefix(e.Msg, "pledge: too many promises") {
			t.Errorf("got %#v", err)
		}
	})
	t.Run("environment", func(t *testing.T) {
		env := testEnv()
		env.Environ = []string{"A=1", "LD_PRELOAD=/evil.so", "_PLEDGE=1,2", "B=2", "LD_PRELOAD=x", "NOEQUALS"}
		p, err := planFor(t, env, static)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"A=1", "B=2", "NOEQUALS"}; !reflect.DeepEqual(p.Env, want) {
			t.Errorf("Env = %q, want %q", p.Env, want)
		}
	})
	t.Run("DSO for a dynamic PROG", func(t *testing.T) {
		env := testEnv()
		env.DSOPath = "/tmp/.pledge-sandbox.so"
		p, err := planFor(t, env, "-v", "/x", dynamicProg(t))
		if err != nil {
			t.Fatal(err)
		}
		if last := p.Env[len(p.Env)-1]; last != "LD_PRELOAD=/tmp/.pledge-sandbox.so" {
			t.Errorf("last env entry %q", last)
		}
		if u := p.Unveils[1]; u != (Unveil{Path: env.DSOPath, Perm: "rx", Required: true}) {
			t.Errorf("second unveil %+v, want the DSO", u)
		}
		p, _ = planFor(t, env, static)
		for _, kv := range p.Env {
			if strings.HasPrefix(kv, "LD_PRELOAD=") {
				t.Errorf("static PROG got %q", kv)
			}
		}
	})
	t.Run("no -v, no tmppath: no unveiling", func(t *testing.T) {
		for _, args := range [][]string{{static}, {"-p", "stdio rpath wpath cpath vminfo", static}} {
			p, _ := planFor(t, testEnv(), args...)
			if p.Unveil || p.Unveils != nil || p.Warnings != nil {
				t.Errorf("%q: Unveil %v, Unveils %v, Warnings %q", args, p.Unveil, p.Unveils, p.Warnings)
			}
		}
	})
	t.Run("-V: no unveiling", func(t *testing.T) {
		p, _ := planFor(t, testEnv(), "-V", "-v", "/x", static)
		if p.Unveil || p.Unveils != nil || p.Warnings != nil {
			t.Errorf("Unveil %v, Unveils %v, Warnings %q", p.Unveil, p.Unveils, p.Warnings)
		}
	})
	t.Run("no Landlock: a warning unless -q", func(t *testing.T) {
		env := testEnv()
		env.Landlock = false
		p, _ := planFor(t, env, "-v", "/x", static)
		if p.Unveil || p.Unveils != nil || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "Landlock is not available") {
			t.Errorf("Unveil %v, Unveils %v, Warnings %q", p.Unveil, p.Unveils, p.Warnings)
		}
		p, _ = planFor(t, env, "-q", "-v", "/x", static)
		if p.Warnings != nil {
			t.Errorf("-q: Warnings %q", p.Warnings)
		}
	})
}

// unveilsOf lists the unveils as "perm path" lines, "!" marking required
// ones.
func unveilsOf(u []Unveil) []string {
	var out []string
	for _, x := range u {
		mark := ""
		if x.Required {
			mark = "!"
		}
		out = append(out, mark+x.Perm+" "+x.Path)
	}
	return out
}

func TestAutoUnveils(t *testing.T) {
	static := staticProg(t)
	dynamic := dynamicProg(t)
	dir := t.TempDir()
	ape := writeFile(t, dir, "ape", append([]byte("jartsr='\n"), make([]byte, 100)...), 0o755)
	script := writeFile(t, dir, "script", []byte("#!"+static+"\n"), 0o755)

	stdio := []string{
		"r /dev/fd", "w /dev/log", "r /dev/zero", "rw /dev/null", "rw /dev/full",
		"rw /dev/stdin", "rw /dev/stdout", "rw /dev/stderr", "r /dev/urandom",
		"r /etc/localtime", "rw /proc/self/fd", "r /proc/self/stat", "r /proc/self/status",
		"r /usr/share/locale", "r /proc/self/cmdline", "r /usr/share/zoneinfo",
		"r /proc/sys/kernel/version", "r /usr/share/common-licenses",
		"r /proc/sys/kernel/ngroups_max", "r /proc/sys/kernel/cap_last_cap",
		"r /proc/sys/vm/overcommit_memory",
	}
	loader := []string{
		"rx /lib", "rx /lib64", "rx /usr/lib", "rx /usr/lib64", "rx /usr/local/lib", "rx /usr/local/lib64",
		"r /etc/ld-musl-x86_64.path",
		"r /etc/ld.so.conf", "r /etc/ld.so.cache", "r /etc/ld.so.conf.d", "r /etc/ld.so.preload",
		"rx /lib/ld-musl-x86_64.so.1",
	}
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name string
		args []string
		edit func(*Env)
		want []string
	}{
		{"static, default promises", []string{static}, nil,
			cat([]string{"!rx " + static}, stdio, []string{"r /proc/filesystems"})},
		{"static, no promises", []string{"-p", "", static}, nil,
			[]string{"!rx " + static}},
		{"dynamic, no promises: loader paths", []string{"-p", "", dynamic}, nil,
			cat([]string{"!rx " + dynamic}, loader)},
		{"arm64 musl names", []string{"-p", "", dynamic}, func(e *Env) { e.Arch = "aarch64" },
			cat([]string{"!rx " + dynamic}, []string{"rx /lib", "rx /lib64", "rx /usr/lib", "rx /usr/lib64", "rx /usr/local/lib", "rx /usr/local/lib64",
				"r /etc/ld-musl-aarch64.path", "r /etc/ld.so.conf", "r /etc/ld.so.cache", "r /etc/ld.so.conf.d", "r /etc/ld.so.preload",
				"rx /lib/ld-musl-aarch64.so.1"})},
		{"rpath added implicitly does not unveil /proc/filesystems", []string{"-p", "stdio", dynamic}, nil,
			cat([]string{"!rx " + dynamic}, loader, stdio)},
		{"script: interpreter unveiled too", []string{"-p", "", script}, nil,
			[]string{"!rx " + script, "rx " + static}},
		{"every promise with paths, in pledge.com's order",
			[]string{"-p", "tmppath vminfo tty dns rpath inet", static},
			func(e *Env) {
				e.TTYName = "/dev/pts/3"
				e.Environ = append(e.Environ, "TMPPATH=/var/tmp/me")
			},
			[]string{"!rx " + static,
				"r /etc/ssl/certs/ca-certificates.crt",
				"r /proc/filesystems",
				"r /etc/hosts", "r /etc/hostname", "r /etc/services", "r /etc/protocols", "r /etc/resolv.conf",
				"rw /dev/pts/3", "rw /dev/tty", "rw /dev/console", "r /etc/terminfo", "r /usr/lib/terminfo", "r /usr/share/terminfo",
				"r /proc/stat", "r /proc/meminfo", "r /proc/cpuinfo", "r /proc/diskstats", "r /proc/self/maps", "r /sys/devices/system/cpu",
				"rwc /tmp", "rwc /var/tmp/me",
			}},
		{"tty without a terminal on stdin", []string{"-p", "tty", static}, nil,
			[]string{"!rx " + static, "rw /dev/tty", "rw /dev/console", "r /etc/terminfo", "r /usr/lib/terminfo", "r /usr/share/terminfo"}},
		{"tmppath without TMPPATH", []string{"-p", "tmppath", static}, nil,
			[]string{"!rx " + static, "rwc /tmp"}},
		{"APE with /usr/bin/ape", []string{"-p", "", ape}, nil,
			[]string{"!rx " + ape, "rx /usr/bin/ape"}},
		{"APE without /usr/bin/ape", []string{"-p", "", ape},
			func(e *Env) {
				e.Exists = func(string) bool { return false }
				e.Environ = append(e.Environ, "TMPDIR=/tmp/x")
			},
			[]string{"!rx " + ape, "rx /usr/bin/ape", "rx /tmp/x/.ape-1.10", "rx /home/u/.ape-1.10"}},
		{"-v last, in order, default r", []string{"-p", "", "-v", "rwc:/work", "-v", "/etc", static}, nil,
			[]string{"!rx " + static, "rwc /work", "r /etc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := testEnv()
			if tt.edit != nil {
				tt.edit(&env)
			}
			args, want := tt.args, tt.want
			if !slices.Contains(args, "-v") && !strings.Contains(strings.Join(args, " "), "tmppath") {
				// Landlock only comes in when asked for (WantsUnveil).
				args = append([]string{"-v", "/the-end"}, args...)
				want = append(slices.Clone(want), "r /the-end")
			}
			p, err := planFor(t, env, args...)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Unveil {
				t.Fatal("Unveil is false")
			}
			if got := unveilsOf(p.Unveils); !reflect.DeepEqual(got, want) {
				t.Errorf("unveils:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestHostEnv(t *testing.T) {
	env := HostEnv()
	if len(env.Environ) != len(os.Environ()) || (env.Arch != "x86_64" && env.Arch != "aarch64") {
		t.Errorf("HostEnv = %+v", env)
	}
	if env.Landlock != (LandlockABI() > 0) {
		t.Errorf("Landlock %v, ABI %d", env.Landlock, LandlockABI())
	}
}
