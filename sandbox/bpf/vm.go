package bpf

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// Stats tells what one run of a program did.
type Stats struct {
	// Executed is the number of instructions executed, the RET included.
	Executed int
	// Loads lists the input offsets read by absolute loads, in order.
	Loads []uint32
}

// Loaded reports whether the run read any byte in [off, off+size).
func (s Stats) Loaded(off, size uint32) bool {
	for _, l := range s.Loads {
		if l < off+size && off < l+4 {
			return true
		}
	}
	return false
}

// Run interprets prog on input (little-endian words, as seccomp_data is on
// x86-64 and arm64) and returns the value of the RET that ended it. It
// supports the instructions the kernel accepts in seccomp programs.
func Run(prog []unix.SockFilter, input []byte) (uint32, Stats, error) {
	var st Stats
	var a, x uint32
	var mem [16]uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		st.Executed++
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			if int(in.K)+4 > len(input) || in.K%4 != 0 {
				return 0, st, fmt.Errorf("bpf: instruction %d: load at offset %d outside the %d-byte input", pc, in.K, len(input))
			}
			a = binary.LittleEndian.Uint32(input[in.K:])
			st.Loads = append(st.Loads, in.K)
		case unix.BPF_LD | unix.BPF_W | unix.BPF_LEN:
			a = uint32(len(input))
		case unix.BPF_LDX | unix.BPF_W | unix.BPF_LEN:
			x = uint32(len(input))
		case unix.BPF_LD | unix.BPF_IMM:
			a = in.K
		case unix.BPF_LDX | unix.BPF_IMM:
			x = in.K
		case unix.BPF_LD | unix.BPF_MEM:
			a = mem[in.K%16]
		case unix.BPF_LDX | unix.BPF_MEM:
			x = mem[in.K%16]
		case unix.BPF_ST:
			mem[in.K%16] = a
		case unix.BPF_STX:
			mem[in.K%16] = x
		case unix.BPF_MISC | unix.BPF_TAX:
			x = a
		case unix.BPF_MISC | unix.BPF_TXA:
			a = x
		case unix.BPF_RET | unix.BPF_K:
			return in.K, st, nil
		case unix.BPF_RET | unix.BPF_A:
			return a, st, nil
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		default:
			switch in.Code & 0x07 {
			case unix.BPF_ALU:
				v := in.K
				if in.Code&unix.BPF_X != 0 {
					v = x
				}
				r, err := alu(in.Code&0xf0, a, v)
				if err != nil {
					return 0, st, fmt.Errorf("bpf: instruction %d: %w", pc, err)
				}
				a = r
			case unix.BPF_JMP:
				v := in.K
				if in.Code&unix.BPF_X != 0 {
					v = x
				}
				var ok bool
				switch in.Code & 0xf0 {
				case unix.BPF_JEQ:
					ok = a == v
				case unix.BPF_JGT:
					ok = a > v
				case unix.BPF_JGE:
					ok = a >= v
				case unix.BPF_JSET:
					ok = a&v != 0
				default:
					return 0, st, fmt.Errorf("bpf: instruction %d: unknown jump %#x", pc, in.Code)
				}
				if ok {
					pc += int(in.Jt)
				} else {
					pc += int(in.Jf)
				}
			default:
				return 0, st, fmt.Errorf("bpf: instruction %d: unsupported opcode %#x", pc, in.Code)
			}
		}
	}
	return 0, st, fmt.Errorf("bpf: program ran off its end")
}

func alu(op uint16, a, v uint32) (uint32, error) {
	switch op {
	case unix.BPF_ADD:
		return a + v, nil
	case unix.BPF_SUB:
		return a - v, nil
	case unix.BPF_MUL:
		return a * v, nil
	case unix.BPF_DIV:
		if v == 0 {
			return 0, fmt.Errorf("division by zero")
		}
		return a / v, nil
	case unix.BPF_MOD:
		if v == 0 {
			return 0, fmt.Errorf("division by zero")
		}
		return a % v, nil
	case unix.BPF_AND:
		return a & v, nil
	case unix.BPF_OR:
		return a | v, nil
	case unix.BPF_XOR:
		return a ^ v, nil
	case unix.BPF_LSH:
		return a << (v & 31), nil
	case unix.BPF_RSH:
		return a >> (v & 31), nil
	case unix.BPF_NEG:
		return -a, nil
	}
	return 0, fmt.Errorf("unknown ALU operation %#x", op)
}
