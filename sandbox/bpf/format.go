package bpf

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"golang.org/x/sys/unix"
)

// Disassemble returns one instruction in assembler notation; pc is its
// index, used to print jump targets as absolute instruction numbers.
func Disassemble(pc int, in unix.SockFilter) string {
	src := func() string {
		if in.Code&unix.BPF_X != 0 {
			return "x"
		}
		return fmt.Sprintf("#%#x", in.K)
	}
	switch in.Code {
	case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
		return fmt.Sprintf("ld   [%d]", in.K)
	case unix.BPF_LD | unix.BPF_W | unix.BPF_LEN:
		return "ld   len"
	case unix.BPF_LD | unix.BPF_IMM:
		return fmt.Sprintf("ld   #%#x", in.K)
	case unix.BPF_RET | unix.BPF_K:
		return fmt.Sprintf("ret  #%#x", in.K)
	case unix.BPF_RET | unix.BPF_A:
		return "ret  a"
	case unix.BPF_JMP | unix.BPF_JA:
		return fmt.Sprintf("ja   %d", pc+1+int(in.K))
	case unix.BPF_MISC | unix.BPF_TAX:
		return "tax"
	case unix.BPF_MISC | unix.BPF_TXA:
		return "txa"
	}
	switch in.Code & 0x07 {
	case unix.BPF_ALU:
		names := map[uint16]string{unix.BPF_ADD: "add", unix.BPF_SUB: "sub", unix.BPF_MUL: "mul", unix.BPF_DIV: "div",
			unix.BPF_MOD: "mod", unix.BPF_AND: "and", unix.BPF_OR: "or", unix.BPF_XOR: "xor",
			unix.BPF_LSH: "lsh", unix.BPF_RSH: "rsh", unix.BPF_NEG: "neg"}
		if n, ok := names[in.Code&0xf0]; ok {
			return fmt.Sprintf("%-4s %s", n, src())
		}
	case unix.BPF_JMP:
		names := map[uint16]string{unix.BPF_JEQ: "jeq", unix.BPF_JGT: "jgt", unix.BPF_JGE: "jge", unix.BPF_JSET: "jset"}
		if n, ok := names[in.Code&0xf0]; ok {
			return fmt.Sprintf("%-4s %s, %d, %d", n, src(), pc+1+int(in.Jt), pc+1+int(in.Jf))
		}
	}
	return fmt.Sprintf(".word code=%#04x jt=%d jf=%d k=%#x", in.Code, in.Jt, in.Jf, in.K)
}

// WriteListing writes p as a readable listing: one instruction per line
// with its index, labels on lines of their own, and comments.
func (p *Program) WriteListing(w io.Writer) error {
	var b strings.Builder
	for pc, in := range p.Insns {
		if name, ok := p.Labels[pc]; ok {
			fmt.Fprintf(&b, "%s:\n", name)
		}
		line := fmt.Sprintf("%5d: %s", pc, Disassemble(pc, in))
		if c := p.comment(pc); c != "" {
			line = fmt.Sprintf("%-44s ; %s", line, c)
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (p *Program) comment(pc int) string {
	if pc < len(p.Comments) {
		return p.Comments[pc]
	}
	return ""
}

// Encode returns the program as the kernel's struct sock_filter array:
// 8 bytes per instruction, little endian.
func Encode(prog []unix.SockFilter) []byte {
	out := make([]byte, 8*len(prog))
	for i, in := range prog {
		binary.LittleEndian.PutUint16(out[8*i:], in.Code)
		out[8*i+2] = in.Jt
		out[8*i+3] = in.Jf
		binary.LittleEndian.PutUint32(out[8*i+4:], in.K)
	}
	return out
}

// Decode parses a struct sock_filter array written by Encode.
func Decode(raw []byte) ([]unix.SockFilter, error) {
	if len(raw)%8 != 0 {
		return nil, fmt.Errorf("bpf: %d bytes is not a whole number of 8-byte instructions", len(raw))
	}
	prog := make([]unix.SockFilter, len(raw)/8)
	for i := range prog {
		prog[i] = unix.SockFilter{
			Code: binary.LittleEndian.Uint16(raw[8*i:]),
			Jt:   raw[8*i+2],
			Jf:   raw[8*i+3],
			K:    binary.LittleEndian.Uint32(raw[8*i+4:]),
		}
	}
	return prog, nil
}

// SeccompDataSize is sizeof(struct seccomp_data).
const SeccompDataSize = 64

// ValidateSeccomp checks prog against the kernel's rules for seccomp
// filters (bpf_check_classic and seccomp_check_filter): length, jumps
// inside the program, only the allowed opcodes, aligned loads inside
// struct seccomp_data, and a RET at the end.
func ValidateSeccomp(prog []unix.SockFilter) error {
	if len(prog) == 0 || len(prog) > MaxInstructions {
		return fmt.Errorf("bpf: program has %d instructions; the kernel takes 1 to %d", len(prog), MaxInstructions)
	}
	for pc, in := range prog {
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			if in.K >= SeccompDataSize || in.K%4 != 0 {
				return fmt.Errorf("bpf: instruction %d loads offset %d, not an aligned word of seccomp_data", pc, in.K)
			}
		case unix.BPF_LD | unix.BPF_W | unix.BPF_LEN, unix.BPF_LDX | unix.BPF_W | unix.BPF_LEN,
			unix.BPF_LD | unix.BPF_IMM, unix.BPF_LDX | unix.BPF_IMM,
			unix.BPF_LD | unix.BPF_MEM, unix.BPF_LDX | unix.BPF_MEM, unix.BPF_ST, unix.BPF_STX,
			unix.BPF_MISC | unix.BPF_TAX, unix.BPF_MISC | unix.BPF_TXA,
			unix.BPF_RET | unix.BPF_K, unix.BPF_RET | unix.BPF_A:
		case unix.BPF_JMP | unix.BPF_JA:
			if int64(pc)+1+int64(in.K) >= int64(len(prog)) {
				return fmt.Errorf("bpf: instruction %d jumps past the end", pc)
			}
		default:
			switch in.Code & 0x07 {
			case unix.BPF_ALU:
				if _, err := alu(in.Code&0xf0, 1, 1); err != nil {
					return fmt.Errorf("bpf: instruction %d: %w", pc, err)
				}
				if in.Code&0xf0 == unix.BPF_DIV && in.Code&unix.BPF_X == 0 && in.K == 0 {
					return fmt.Errorf("bpf: instruction %d divides by zero", pc)
				}
			case unix.BPF_JMP:
				switch in.Code & 0xf0 {
				case unix.BPF_JEQ, unix.BPF_JGT, unix.BPF_JGE, unix.BPF_JSET:
				default:
					return fmt.Errorf("bpf: instruction %d: unknown jump %#x", pc, in.Code)
				}
				if pc+1+int(in.Jt) >= len(prog) || pc+1+int(in.Jf) >= len(prog) {
					return fmt.Errorf("bpf: instruction %d jumps past the end", pc)
				}
			default:
				return fmt.Errorf("bpf: instruction %d: opcode %#x is not allowed in seccomp filters", pc, in.Code)
			}
		}
	}
	if last := prog[len(prog)-1].Code; last != unix.BPF_RET|unix.BPF_K && last != unix.BPF_RET|unix.BPF_A {
		return fmt.Errorf("bpf: program does not end with a RET")
	}
	return nil
}
