// Package abi32 makes system calls through the 32-bit compatibility entry
// of an x86-64 kernel; it is empty on other architectures.
package abi32
