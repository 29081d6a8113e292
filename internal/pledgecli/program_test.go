package pledgecli

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// makeELF builds a minimal ELF file: a header of the given class and type
// and program headers of the given types right after it.
func makeELF(class elf.Class, typ elf.Type, phs ...elf.ProgType) []byte {
	var b bytes.Buffer
	h := elf.Header64{
		Type:      uint16(typ),
		Machine:   uint16(elf.EM_X86_64),
		Version:   1,
		Phoff:     64,
		Ehsize:    64,
		Phentsize: 56,
		Phnum:     uint16(len(phs)),
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(class)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = 1
	binary.Write(&b, binary.LittleEndian, h)
	interp := []byte("/lib/ld-test.so\x00")
	interpOff := uint64(64 + 56*len(phs))
	for _, pt := range phs {
		p := elf.Prog64{Type: uint32(pt)}
		if pt == elf.PT_INTERP {
			p.Off, p.Filesz = interpOff, uint64(len(interp))
		}
		binary.Write(&b, binary.LittleEndian, p)
	}
	b.Write(interp)
	return b.Bytes()
}

func TestClassify(t *testing.T) {
	dir := t.TempDir()
	ape := append([]byte("MZqFpD='\n"), bytes.Repeat([]byte{'x'}, 100)...)
	manyPH := make([]elf.ProgType, 17)
	for i := range manyPH {
		manyPH[i] = elf.PT_LOAD
	}
	manyPH[16] = elf.PT_INTERP // past the 16 pledge.com reads
	tests := []struct {
		name   string
		data   []byte
		kind   Kind
		interp string
		arg    string
	}{
		{"static ET_EXEC", makeELF(elf.ELFCLASS64, elf.ET_EXEC, elf.PT_LOAD), KindStatic, "", ""},
		{"ET_EXEC with PT_INTERP", makeELF(elf.ELFCLASS64, elf.ET_EXEC, elf.PT_LOAD, elf.PT_INTERP), KindDynamic, "/lib/ld-test.so", ""},
		{"ET_EXEC with PT_DYNAMIC", makeELF(elf.ELFCLASS64, elf.ET_EXEC, elf.PT_DYNAMIC), KindDynamic, "", ""},
		{"static-PIE counts as dynamic", makeELF(elf.ELFCLASS64, elf.ET_DYN, elf.PT_LOAD), KindDynamic, "", ""},
		{"PT_INTERP after 16 headers is not seen", makeELF(elf.ELFCLASS64, elf.ET_EXEC, manyPH...), KindStatic, "", ""},
		{"32-bit ELF is static", makeELF(elf.ELFCLASS32, elf.ET_DYN, elf.PT_INTERP), KindStatic, "", ""},
		{"truncated program headers", makeELF(elf.ELFCLASS64, elf.ET_EXEC, elf.PT_INTERP)[:70], KindStatic, "", ""},
		{"APE MZqFpD", ape, KindAPE, "", ""},
		{"APE jartsr", append([]byte("jartsr='"), ape[8:]...), KindAPE, "", ""},
		{"APE APEDBG", append([]byte("APEDBG='"), ape[8:]...), KindAPE, "", ""},
		{"APE magic in a short file is static", []byte("MZqFpD='\n"), KindStatic, "", ""},
		{"script", []byte("#!/bin/sh\necho hi\n"), KindScript, "/bin/sh", ""},
		{"script with argument and blanks", []byte("#! \t/bin/sh  -e -x \t\nexit 0\n"), KindScript, "/bin/sh", "-e -x"},
		{"script without newline", []byte("#!/usr/bin/env python3"), KindScript, "/usr/bin/env", "python3"},
		{"script without interpreter", []byte("#!\n"), KindStatic, "", ""},
		{"text file", bytes.Repeat([]byte("echo hi\n"), 20), KindStatic, "", ""},
		{"empty file", nil, KindStatic, "", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, string(rune('a'+i)), tt.data, 0o755)
			got := Classify(p)
			want := Image{Path: p, Kind: tt.kind, Interp: tt.interp, Arg: tt.arg}
			if got != want {
				t.Errorf("Classify = %+v, want %+v", got, want)
			}
		})
	}
	t.Run("missing file is static", func(t *testing.T) {
		if got := Classify(filepath.Join(dir, "nope")); got.Kind != KindStatic {
			t.Errorf("Kind = %v", got.Kind)
		}
	})
	t.Run("static Go binary", func(t *testing.T) {
		if got := Classify(staticProg(t)); got.Kind != KindStatic {
			t.Errorf("Kind = %v, want static", got.Kind)
		}
	})
	t.Run("dynamic system binary", func(t *testing.T) {
		got := Classify(dynamicProg(t))
		if got.Kind != KindDynamic || got.Interp == "" {
			t.Errorf("got %+v, want dynamic with an interpreter", got)
		}
	})
}

func TestParseShebang(t *testing.T) {
	tests := []struct {
		in          string
		interp, arg string
		ok          bool
	}{
		{"#!/bin/sh", "/bin/sh", "", true},
		{"#!/bin/sh\n", "/bin/sh", "", true},
		{"#! /bin/sh -e \n", "/bin/sh", "-e", true},
		{"#!/bin/sh\t-x  y\n", "/bin/sh", "-x  y", true},
		{"#!/usr/bin/env python3 -u\nprint()\n", "/usr/bin/env", "python3 -u", true},
		{"#!/bin/sh\x00junk\n", "/bin/sh", "", true},
		{"#!\n", "", "", false},
		{"#!   \t\n/bin/sh\n", "", "", false},
	}
	for _, tt := range tests {
		interp, arg, ok := parseShebang([]byte(tt.in))
		if interp != tt.interp || arg != tt.arg || ok != tt.ok {
			t.Errorf("parseShebang(%q) = %q, %q, %v; want %q, %q, %v", tt.in, interp, arg, ok, tt.interp, tt.arg, tt.ok)
		}
	}
}

func TestEnvCommand(t *testing.T) {
	tests := map[string]string{
		"python3":            "python3",
		"-S python3 -u":      "python3",
		"-Spython3":          "python3",
		"-S A=1 B=2 perl -w": "perl",
		"python3 -u":         "", // one argument with a space: env cannot find it
		"-i":                 "",
		"-S":                 "",
		"":                   "",
		"-S -i sh":           "",
	}
	for in, want := range tests {
		if got := envCommand(in); got != want {
			t.Errorf("envCommand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClassifyProgram(t *testing.T) {
	static := staticProg(t)
	dir := t.TempDir()
	// A directory on $PATH with the static program under another name.
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	data, err := os.ReadFile(static)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, bin, "mystatic", data, 0o755)
	env := []string{"PATH=" + bin}

	kinds := func(p Program) []Kind {
		var k []Kind
		for _, im := range p.Chain {
			k = append(k, im.Kind)
		}
		return k
	}
	t.Run("static", func(t *testing.T) {
		p := ClassifyProgram(static, env)
		if !reflect.DeepEqual(kinds(p), []Kind{KindStatic}) || p.Strategy() != KindStatic || p.Interpreters() != nil {
			t.Errorf("got %+v", p)
		}
	})
	t.Run("dynamic", func(t *testing.T) {
		p := ClassifyProgram(dynamicProg(t), env)
		if !reflect.DeepEqual(kinds(p), []Kind{KindDynamic}) || p.Strategy() != KindDynamic {
			t.Errorf("got %+v", p)
		}
	})
	t.Run("script with a dynamic interpreter", func(t *testing.T) {
		sh := dynamicProg(t)
		s := writeFile(t, dir, "dyn.sh", []byte("#!"+sh+"\n"), 0o755)
		p := ClassifyProgram(s, env)
		if !reflect.DeepEqual(kinds(p), []Kind{KindScript, KindDynamic}) || p.Strategy() != KindDynamic ||
			!reflect.DeepEqual(p.Interpreters(), []string{sh}) {
			t.Errorf("got %+v", p)
		}
	})
	t.Run("script with a static interpreter", func(t *testing.T) {
		s := writeFile(t, dir, "static.sh", []byte("#!"+static+" -x\n"), 0o755)
		p := ClassifyProgram(s, env)
		if !reflect.DeepEqual(kinds(p), []Kind{KindScript, KindStatic}) || p.Strategy() != KindStatic {
			t.Errorf("got %+v", p)
		}
	})
	t.Run("script running a script", func(t *testing.T) {
		inner := writeFile(t, dir, "inner", []byte("#!"+static+"\n"), 0o755)
		outer := writeFile(t, dir, "outer", []byte("#!"+inner+"\n"), 0o755)
		p := ClassifyProgram(outer, env)
		if !reflect.DeepEqual(p.Interpreters(), []string{inner, static}) || p.Strategy() != KindStatic {
			t.Errorf("got %+v", p)
		}
	})
	t.Run("interpreter loop is bounded", func(t *testing.T) {
		loop := filepath.Join(dir, "loop")
		writeFile(t, dir, "loop", []byte("#!"+loop+"\n"), 0o755)
		p := ClassifyProgram(loop, env)
		if len(p.Chain) != MaxInterpreterDepth+1 {
			t.Errorf("chain of %d, want %d", len(p.Chain), MaxInterpreterDepth+1)
		}
	})
	t.Run("missing interpreter", func(t *testing.T) {
		s := writeFile(t, dir, "missing.sh", []byte("#!/nonexistent/sh\n"), 0o755)
		p := ClassifyProgram(s, env)
		if !reflect.DeepEqual(kinds(p), []Kind{KindScript, KindStatic}) {
			t.Errorf("got %+v", p)
		}
	})
	t.Run("env follows the command in PATH", func(t *testing.T) {
		envBin := "/usr/bin/env"
		if _, err := os.Stat(envBin); err != nil {
			t.Skip("no /usr/bin/env")
		}
		s := writeFile(t, dir, "env.sh", []byte("#!/usr/bin/env mystatic\n"), 0o755)
		p := ClassifyProgram(s, env)
		want := []string{envBin, filepath.Join(bin, "mystatic")}
		if !reflect.DeepEqual(p.Interpreters(), want) {
			t.Errorf("interpreters %q, want %q", p.Interpreters(), want)
		}
		if p.Strategy() != Classify(envBin).Kind {
			t.Errorf("strategy %v: env's kind decides", p.Strategy())
		}
	})
	t.Run("env with an unknown command", func(t *testing.T) {
		s := writeFile(t, dir, "env2.sh", []byte("#!/usr/bin/env no-such-command-here\n"), 0o755)
		p := ClassifyProgram(s, env)
		if !reflect.DeepEqual(p.Interpreters(), []string{"/usr/bin/env"}) {
			t.Errorf("interpreters %q", p.Interpreters())
		}
	})
	t.Run("APE and dynamic in one chain", func(t *testing.T) {
		ape := writeFile(t, dir, "ape", append([]byte("MZqFpD='\n"), make([]byte, 100)...), 0o755)
		s := writeFile(t, dir, "ape.sh", []byte("#!"+ape+"\n"), 0o755)
		p := ClassifyProgram(s, env)
		if p.Strategy() != KindAPE || !p.Has(KindAPE) || p.Has(KindDynamic) {
			t.Errorf("got %+v", p)
		}
	})
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	d1, d2, d3 := filepath.Join(dir, "d1"), filepath.Join(dir, "d2"), filepath.Join(dir, "d3")
	for _, d := range []string{d1, d2, d3} {
		os.Mkdir(d, 0o755)
	}
	writeFile(t, d1, "noexec", []byte("x"), 0o644)
	writeFile(t, d2, "noexec", []byte("x"), 0o644)
	writeFile(t, d1, "both", []byte("x"), 0o644)
	writeFile(t, d2, "both", []byte("x"), 0o755)
	writeFile(t, d3, "both", []byte("x"), 0o755)
	os.Mkdir(filepath.Join(d1, "isdir"), 0o755)
	writeFile(t, d2, "isdir", []byte("x"), 0o755)
	writeFile(t, dir, "here", []byte("x"), 0o755)

	tests := []struct {
		name    string
		prog    string
		environ []string
		want    string
		err     error
	}{
		{"first executable candidate", "both", []string{"PATH=" + d1 + ":" + d2 + ":" + d3}, filepath.Join(d2, "both"), nil},
		{"directories are skipped", "isdir", []string{"PATH=" + d1 + ":" + d2}, filepath.Join(d2, "isdir"), nil},
		{"not executable", "noexec", []string{"PATH=" + d1 + ":" + d2}, "", unix.EACCES},
		{"not found", "nothing", []string{"PATH=" + d1 + ":" + d2}, "", unix.ENOENT},
		{"slash: used as is", d2 + "/both", []string{"PATH=" + d1}, d2 + "/both", nil},
		{"slash: not executable", d1 + "/both", nil, "", unix.EACCES},
		{"slash: missing", d1 + "/nothing", nil, "", unix.ENOENT},
		{"empty name", "", []string{"PATH=" + d1}, "", unix.ENOENT},
		{"last PATH wins", "both", []string{"PATH=" + d1, "PATH=" + d3}, filepath.Join(d3, "both"), nil},
		{"PATH unset: default path", "sh", []string{"HOME=/"}, "/bin/sh", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LookPath(tt.prog, tt.environ)
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("LookPath(%q) = %q, %v; want %q, %v", tt.prog, got, err, tt.want, tt.err)
			}
		})
	}
	t.Run("empty PATH entry is the current directory", func(t *testing.T) {
		t.Chdir(dir)
		got, err := LookPath("here", []string{"PATH=" + d1 + "::" + d2})
		if got != "here" || err != nil {
			t.Errorf("got %q, %v; want here", got, err)
		}
		got, err = LookPath("here", []string{"PATH="})
		if got != "here" || err != nil {
			t.Errorf("PATH empty: got %q, %v; want here", got, err)
		}
	})
}
