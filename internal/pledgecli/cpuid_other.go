//go:build !amd64

package pledgecli

// baseMHz is 0: only x86-64 has CPUID leaf 0x16, and pledge.com ignores -C
// elsewhere.
func baseMHz() int { return 0 }
