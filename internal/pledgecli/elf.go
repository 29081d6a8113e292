package pledgecli

import (
	"bytes"
	"encoding/binary"
	"io"
)

// The few ELF definitions classifyELF needs (elf(5)). They are spelled out
// here rather than taken from debug/elf, which would bring compress/flate,
// compress/zlib, debug/dwarf and internal/zstd into pledge: their package
// init and size are paid by every run.
const (
	elfMagic = "\x7fELF"

	elfIdentClass = 4 // EI_CLASS
	elfIdentData  = 5 // EI_DATA

	elfClass32   = 1 // ELFCLASS32
	elfData2MSB  = 2 // ELFDATA2MSB
	elfTypeDyn   = 3 // ET_DYN
	elfPTDynamic = 2 // PT_DYNAMIC
	elfPTInterp  = 3 // PT_INTERP

	// Offsets in Elf64_Ehdr and Elf64_Phdr.
	elf64EhdrSize   = 64
	elf64TypeOff    = 16 // e_type, 2 bytes
	elf64PhoffOff   = 32 // e_phoff, 8 bytes
	elf64PhnumOff   = 56 // e_phnum, 2 bytes
	elf64PhdrSize   = 56 // sizeof(Elf64_Phdr)
	elf64PTypeOff   = 0  // p_type, 4 bytes
	elf64POffOff    = 8  // p_offset, 8 bytes
	elf64PFileszOff = 32 // p_filesz, 8 bytes

	// maxProgHeaders is how many program headers pledge.com reads.
	maxProgHeaders = 16
	// maxInterpLen bounds the PT_INTERP path that is read.
	maxInterpLen = 4096
)

// classifyELF fills in im for a 64-bit ELF whose first 64 bytes are hdr;
// r reads the rest of the file. Anything else (no ELF magic, ELFCLASS32,
// hdr shorter than an ELF header) leaves im alone, and so does a program
// header table that cannot be read whole. Like pledge.com it reads
// min(e_phnum, 16) program headers of sizeof(Elf64_Phdr) from e_phoff
// (e_phentsize is not consulted); ET_DYN, PT_INTERP or PT_DYNAMIC make the
// file dynamic, and the PT_INTERP path becomes im.Interp when it can be read.
// Malformed files never panic: offsets beyond the file (or beyond int64)
// just fail to read.
func classifyELF(r io.ReaderAt, hdr []byte, im *Image) {
	if len(hdr) < elf64EhdrSize || string(hdr[:4]) != elfMagic || hdr[elfIdentClass] == elfClass32 {
		return
	}
	var order binary.ByteOrder = binary.LittleEndian
	if hdr[elfIdentData] == elfData2MSB {
		order = binary.BigEndian
	}
	if order.Uint16(hdr[elf64TypeOff:]) == elfTypeDyn {
		im.Kind = KindDynamic
	}
	phoff := order.Uint64(hdr[elf64PhoffOff:])
	count := min(int(order.Uint16(hdr[elf64PhnumOff:])), maxProgHeaders)
	var phbuf [maxProgHeaders * elf64PhdrSize]byte
	ph := phbuf[:count*elf64PhdrSize]
	if !readFull(r, ph, phoff) {
		return
	}
	for i := range count {
		p := ph[i*elf64PhdrSize : (i+1)*elf64PhdrSize]
		switch order.Uint32(p[elf64PTypeOff:]) {
		case elfPTDynamic:
			im.Kind = KindDynamic
		case elfPTInterp:
			im.Kind = KindDynamic
			if size := order.Uint64(p[elf64PFileszOff:]); size > 0 && size < maxInterpLen {
				s := make([]byte, size)
				if readFull(r, s, order.Uint64(p[elf64POffOff:])) {
					im.Interp = string(bytes.TrimRight(s, "\x00"))
				}
			}
		}
	}
}

// readFull reports whether all of b could be read from r at the file offset
// off. An empty b always succeeds; an offset that does not fit in int64
// (and so is negative) reads nothing.
func readFull(r io.ReaderAt, b []byte, off uint64) bool {
	if len(b) == 0 {
		return true
	}
	if int64(off) < 0 {
		return false
	}
	n, _ := r.ReadAt(b, int64(off))
	return n == len(b)
}
