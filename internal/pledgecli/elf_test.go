package pledgecli

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"io"
	"math"
	"testing"
)

// debugELFClassify is the classifier as it was written with debug/elf; the
// tests check that classifyELF agrees with it on every input.
func debugELFClassify(f io.ReaderAt, hdr []byte, im *Image) {
	if string(hdr[:4]) != elf.ELFMAG || elf.Class(hdr[elf.EI_CLASS]) == elf.ELFCLASS32 {
		return
	}
	var order binary.ByteOrder = binary.LittleEndian
	if elf.Data(hdr[elf.EI_DATA]) == elf.ELFDATA2MSB {
		order = binary.BigEndian
	}
	var eh elf.Header64
	if _, err := binary.Decode(hdr, order, &eh); err != nil {
		return
	}
	if elf.Type(eh.Type) == elf.ET_DYN {
		im.Kind = KindDynamic
	}
	count := min(int(eh.Phnum), 16)
	const phsize = 56
	ph := make([]byte, count*phsize)
	if n, _ := f.ReadAt(ph, int64(eh.Phoff)); n != len(ph) {
		return
	}
	for i := range count {
		var p elf.Prog64
		if _, err := binary.Decode(ph[i*phsize:], order, &p); err != nil {
			return
		}
		switch elf.ProgType(p.Type) {
		case elf.PT_DYNAMIC:
			im.Kind = KindDynamic
		case elf.PT_INTERP:
			im.Kind = KindDynamic
			if p.Filesz > 0 && p.Filesz < 4096 {
				s := make([]byte, p.Filesz)
				if n, _ := f.ReadAt(s, int64(p.Off)); n == len(s) {
					im.Interp = string(bytes.TrimRight(s, "\x00"))
				}
			}
		}
	}
}

// elfSpec describes an ELF file for buildELF. Zero fields get the values of
// a well-formed little-endian 64-bit file whose program headers follow the
// ELF header.
type elfSpec struct {
	class elf.Class
	data  elf.Data
	typ   elf.Type
	phoff uint64 // 0: 64
	phnum int    // -1: len(phs)
	phs   []elf.Prog64
	tail  []byte // appended after the program headers
}

func buildELF(s elfSpec) []byte {
	order := binary.ByteOrder(binary.LittleEndian)
	if s.data == elf.ELFDATA2MSB {
		order = binary.BigEndian
	}
	if s.class == 0 {
		s.class = elf.ELFCLASS64
	}
	if s.data == 0 {
		s.data = elf.ELFDATA2LSB
	}
	if s.phoff == 0 {
		s.phoff = 64
	}
	if s.phnum < 0 {
		s.phnum = len(s.phs)
	}
	h := elf.Header64{
		Type:      uint16(s.typ),
		Machine:   uint16(elf.EM_X86_64),
		Version:   1,
		Phoff:     s.phoff,
		Ehsize:    64,
		Phentsize: 56,
		Phnum:     uint16(s.phnum),
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(s.class)
	h.Ident[elf.EI_DATA] = byte(s.data)
	h.Ident[elf.EI_VERSION] = 1
	var b bytes.Buffer
	binary.Write(&b, order, h)
	for _, p := range s.phs {
		binary.Write(&b, order, p)
	}
	b.Write(s.tail)
	return b.Bytes()
}

// interpAt is a PT_INTERP program header for size bytes at off.
func interpAt(off, size uint64) elf.Prog64 {
	return elf.Prog64{Type: uint32(elf.PT_INTERP), Off: off, Filesz: size}
}

func prog(t elf.ProgType) elf.Prog64 { return elf.Prog64{Type: uint32(t)} }

func TestClassifyELF(t *testing.T) {
	const ld = "/lib/ld-test.so\x00"
	// One PT_INTERP header right after the ELF header, its path after it.
	interp1 := []elf.Prog64{interpAt(64+56, uint64(len(ld)))}
	good := buildELF(elfSpec{typ: elf.ET_EXEC, phnum: -1, phs: interp1, tail: []byte(ld)})
	sixteenLoads := make([]elf.Prog64, 16)
	for i := range sixteenLoads {
		sixteenLoads[i] = prog(elf.PT_LOAD)
	}
	padded := func(phs []elf.Prog64, n int) []elf.Prog64 {
		for len(phs) < n {
			phs = append(phs, prog(elf.PT_NULL))
		}
		return phs
	}
	wrongPhentsize := buildELF(elfSpec{typ: elf.ET_EXEC, phnum: -1, phs: []elf.Prog64{prog(elf.PT_LOAD), prog(elf.PT_DYNAMIC)}})
	binary.LittleEndian.PutUint16(wrongPhentsize[54:], 32)
	classNone := buildELF(elfSpec{typ: elf.ET_DYN})
	classNone[elf.EI_CLASS] = byte(elf.ELFCLASSNONE)

	tests := []struct {
		name   string
		data   []byte
		kind   Kind
		interp string
	}{
		{"well-formed PT_INTERP", good, KindDynamic, "/lib/ld-test.so"},
		{"only the ELF header (63 bytes)", good[:63], KindStatic, ""},
		{"ELF header without its program headers", good[:64], KindStatic, ""},
		{"program header cut short", good[:64+55], KindStatic, ""},
		{"PT_INTERP path cut short", good[:len(good)-3], KindDynamic, ""},
		{"ET_DYN with missing program headers", buildELF(elfSpec{typ: elf.ET_DYN, phnum: 3}), KindDynamic, ""},
		{"no program headers", buildELF(elfSpec{typ: elf.ET_EXEC, phnum: 0}), KindStatic, ""},
		{"phoff past the end", buildELF(elfSpec{typ: elf.ET_EXEC, phoff: 1 << 20, phnum: -1, phs: interp1, tail: []byte(ld)}), KindStatic, ""},
		{"phoff past int64", buildELF(elfSpec{typ: elf.ET_EXEC, phoff: 1 << 63, phnum: -1, phs: interp1, tail: []byte(ld)}), KindStatic, ""},
		{"phoff MaxUint64", buildELF(elfSpec{typ: elf.ET_EXEC, phoff: math.MaxUint64, phnum: -1, phs: interp1, tail: []byte(ld)}), KindStatic, ""},
		{"phoff MaxUint64 without program headers", buildELF(elfSpec{typ: elf.ET_EXEC, phoff: math.MaxUint64, phnum: 0}), KindStatic, ""},
		{"phoff inside the ELF header", buildELF(elfSpec{typ: elf.ET_EXEC, phoff: 8, phnum: 1}), KindStatic, ""},
		{"huge phnum, fewer than 16 headers in the file", buildELF(elfSpec{typ: elf.ET_EXEC, phnum: 0xffff, phs: interp1, tail: []byte(ld)}), KindStatic, ""},
		{"huge phnum, 16 headers read", buildELF(elfSpec{typ: elf.ET_EXEC, phnum: 0xffff, phs: padded([]elf.Prog64{prog(elf.PT_DYNAMIC)}, 16)}), KindDynamic, ""},
		{"huge phnum, 17th header not read", buildELF(elfSpec{typ: elf.ET_EXEC, phnum: 0xffff, phs: append(sixteenLoads, prog(elf.PT_DYNAMIC))}), KindStatic, ""},
		{"e_phentsize is not used", wrongPhentsize, KindDynamic, ""},
		{"PT_INTERP offset past the end", buildELF(elfSpec{typ: elf.ET_EXEC, phnum: -1, phs: []elf.Prog64{interpAt(1<<30, 10)}}), KindDynamic, ""},
		{"PT_INTERP offset past int64", buildELF(elfSpec{typ: elf.ET_EXEC, phnum: -1, phs: []elf.Prog64{interpAt(math.MaxUint64-1, 10)}}), KindDynamic, ""},
		{"PT_INTERP of size 0", buildELF(elfSpec{typ: elf.ET_EXEC, phnum: -1, phs: []elf.Prog64{interpAt(0, 0)}}), KindDynamic, ""},
		{"PT_INTERP of 4096 bytes is not read", buildELF(elfSpec{typ: elf.ET_EXEC, phnum: -1, phs: []elf.Prog64{interpAt(0, 4096)}, tail: make([]byte, 4096)}), KindDynamic, ""},
		{"PT_INTERP of 4095 bytes", buildELF(elfSpec{typ: elf.ET_EXEC, phnum: -1, phs: []elf.Prog64{interpAt(120, 4095)}, tail: append(bytes.Repeat([]byte{'/'}, 4000), make([]byte, 95)...)}), KindDynamic, string(bytes.Repeat([]byte{'/'}, 4000))},
		{"PT_INTERP without NUL, several NULs", buildELF(elfSpec{typ: elf.ET_EXEC, phnum: -1, phs: []elf.Prog64{interpAt(176, 4), interpAt(180, 6)}, tail: []byte("/abc/x\x00\x00\x00\x00")}), KindDynamic, "/x"},
		{"PT_INTERP size past int64", buildELF(elfSpec{typ: elf.ET_EXEC, phnum: -1, phs: []elf.Prog64{interpAt(0, math.MaxUint64)}}), KindDynamic, ""},
		{"32-bit ELF", buildELF(elfSpec{class: elf.ELFCLASS32, typ: elf.ET_DYN, phnum: -1, phs: interp1, tail: []byte(ld)}), KindStatic, ""},
		{"ELFCLASSNONE is read as 64-bit", classNone, KindDynamic, ""},
		{"unknown EI_CLASS is read as 64-bit", buildELF(elfSpec{class: 0x80, typ: elf.ET_DYN}), KindDynamic, ""},
		{"big-endian PT_INTERP", buildELF(elfSpec{data: elf.ELFDATA2MSB, typ: elf.ET_EXEC, phnum: -1, phs: interp1, tail: []byte(ld)}), KindDynamic, "/lib/ld-test.so"},
		{"big-endian ET_DYN", buildELF(elfSpec{data: elf.ELFDATA2MSB, typ: elf.ET_DYN}), KindDynamic, ""},
		{"big-endian static", buildELF(elfSpec{data: elf.ELFDATA2MSB, typ: elf.ET_EXEC, phnum: -1, phs: sixteenLoads}), KindStatic, ""},
		{"unknown EI_DATA is little-endian", buildELF(elfSpec{data: 7, typ: elf.ET_DYN}), KindDynamic, ""},
		{"bad magic", append([]byte("\x7fELG"), good[4:]...), KindStatic, ""},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, string(rune('a'+i)), tt.data, 0o755)
			got := Classify(p)
			want := Image{Path: p, Kind: tt.kind, Interp: tt.interp}
			if got != want {
				t.Errorf("Classify = %+v, want %+v", got, want)
			}
			if len(tt.data) >= 64 {
				checkAgainstDebugELF(t, tt.data)
			}
		})
	}
}

// checkAgainstDebugELF checks that classifyELF and the debug/elf classifier
// agree on data.
func checkAgainstDebugELF(t *testing.T, data []byte) {
	t.Helper()
	var got, want Image
	classifyELF(bytes.NewReader(data), data[:64], &got)
	debugELFClassify(bytes.NewReader(data), data[:64], &want)
	if got != want {
		t.Errorf("classifyELF = %+v, debug/elf classifier = %+v", got, want)
	}
}

func TestClassifyELFShortHeader(t *testing.T) {
	// Classify never passes fewer than 64 bytes, but a short header must
	// not panic either.
	good := buildELF(elfSpec{typ: elf.ET_DYN})
	for n := range 64 {
		im := Image{Kind: KindStatic}
		classifyELF(bytes.NewReader(good[:n]), good[:n], &im)
		if im.Kind != KindStatic {
			t.Errorf("%d-byte header: %v", n, im.Kind)
		}
	}
}

func FuzzClassify(f *testing.F) {
	const ld = "/lib/ld-linux-x86-64.so.2\x00"
	f.Add(buildELF(elfSpec{typ: elf.ET_EXEC, phnum: -1, phs: []elf.Prog64{prog(elf.PT_LOAD), interpAt(64+2*56, uint64(len(ld)))}, tail: []byte(ld)}))
	f.Add(buildELF(elfSpec{data: elf.ELFDATA2MSB, typ: elf.ET_EXEC, phnum: -1, phs: []elf.Prog64{interpAt(64+56, uint64(len(ld)))}, tail: []byte(ld)}))
	f.Add(buildELF(elfSpec{typ: elf.ET_DYN, phnum: 0xffff}))
	f.Add(buildELF(elfSpec{typ: elf.ET_EXEC, phoff: math.MaxUint64, phnum: 1}))
	f.Add(buildELF(elfSpec{class: elf.ELFCLASS32, typ: elf.ET_DYN}))
	f.Add(makeELF(elf.ELFCLASS64, elf.ET_EXEC, elf.PT_LOAD, elf.PT_DYNAMIC))
	f.Add([]byte("#!/bin/sh -e\n"))
	f.Add(append([]byte("MZqFpD='\n"), make([]byte, 100)...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		p := writeFile(t, t.TempDir(), "prog", data, 0o755)
		im := Classify(p)
		if im.Path != p {
			t.Errorf("Path = %q, want %q", im.Path, p)
		}
		switch im.Kind {
		case KindStatic, KindAPE:
			if im.Interp != "" || im.Arg != "" {
				t.Errorf("%v with interpreter: %+v", im.Kind, im)
			}
		case KindDynamic:
			if im.Arg != "" {
				t.Errorf("dynamic with an argument: %+v", im)
			}
		case KindScript:
			if im.Interp == "" {
				t.Errorf("script without interpreter: %+v", im)
			}
		default:
			t.Errorf("unknown kind: %+v", im)
		}
		if len(data) >= 64 {
			checkAgainstDebugELF(t, data)
		}
	})
}
