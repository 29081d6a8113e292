package pledgecli

// cpuid executes the CPUID instruction (cpuid_amd64.s).
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// baseMHz is the processor base frequency from CPUID leaf 0x16, or 0 when
// the CPU (or hypervisor) does not report it.
func baseMHz() int {
	if maxLeaf, _, _, _ := cpuid(0, 0); maxLeaf < 0x16 {
		return 0
	}
	eax, _, _, _ := cpuid(0x16, 0)
	return int(eax & 0x7fff)
}
