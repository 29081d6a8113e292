package pledgecli

import (
	"errors"
	"math"
	"strconv"
	"testing"
)

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  error
	}{
		{"0", 0, nil},
		{"42", 42, nil},
		{"-42", -42, nil},
		{"+42", 42, nil},
		{" \t42", 42, nil},
		{"0x1f", 31, nil},
		{"0X1F", 31, nil},
		{"-0x10", -16, nil},
		{"017", 15, nil},
		{"-017", -15, nil},
		{"0b101", 5, nil},
		{"00", 0, nil},
		{"9223372036854775807", math.MaxInt64, nil},
		{"-9223372036854775808", math.MinInt64, nil},
		{"0x7fffffffffffffff", math.MaxInt64, nil},
		{"-0x8000000000000000", math.MinInt64, nil},
		// C corner cases: no digit at all, but nothing left over either.
		{"", 0, nil},
		{"0x", 0, nil},
		{"0b", 0, nil},
		// Junk.
		{"08", 0, ErrSyntax},
		{"0b2", 0, ErrSyntax},
		{"0xg", 0, ErrSyntax},
		{"12abc", 0, ErrSyntax},
		{"1e3", 0, ErrSyntax},
		{"1.5", 0, ErrSyntax},
		{"12 ", 0, ErrSyntax},
		{" ", 0, ErrSyntax},
		{"-", 0, ErrSyntax},
		{"+", 0, ErrSyntax},
		{"\n42", 0, ErrSyntax},
		{"--1", 0, ErrSyntax},
		{"x", 0, ErrSyntax},
		// Overflow.
		{"9223372036854775808", 0, ErrRange},
		{"-9223372036854775809", 0, ErrRange},
		{"0x8000000000000000", 0, ErrRange},
		{"99999999999999999999999", 0, ErrRange},
		{"01777777777777777777777", 0, ErrRange},
	}
	for _, tt := range tests {
		got, err := ParseInt(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("ParseInt(%q) = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  error
	}{
		{"0", 0, nil},
		{"1", 1, nil},
		{"1k", 1 << 10, nil},
		{"1K", 1 << 10, nil},
		{"3m", 3 << 20, nil},
		{"512MiB", 512 << 20, nil},
		{"4gb", 4 << 30, nil},
		{"4G", 4 << 30, nil},
		{"2t", 2 << 40, nil},
		{"2P", 2 << 50, nil},
		{"1e", 1 << 60, nil},
		{"7E", 7 << 60, nil},
		{"-1", -1, nil},
		{"-1k", -1024, nil},
		{"-8e", math.MinInt64, nil},
		{"+5k", 5 << 10, nil},
		{" \t5", 5, nil},
		{"5 apples", 5, nil},
		{"5\tx", 5, nil},
		{"0010", 10, nil}, // decimal, no octal
		{"9223372036854775807", math.MaxInt64, nil},
		{"-9223372036854775808", math.MinInt64, nil},
		{"9007199254740991k", 9007199254740991 << 10, nil},
		{"", 0, ErrSyntax},
		{" ", 0, ErrSyntax},
		{"k", 0, ErrSyntax},
		{"-k", 0, ErrSyntax},
		{"-", 0, ErrSyntax},
		{"5x", 0, ErrSyntax},
		{"5.5g", 0, ErrSyntax},
		{"0x10", 0, ErrSyntax},
		{"5\n", 0, ErrSyntax},
		{"8e", 0, ErrRange},
		{"9223372036854775808", 0, ErrRange},
		{"-9223372036854775809", 0, ErrRange},
		{"9007199254740992k", 0, ErrRange},
		{"99999999999999999999", 0, ErrRange},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"0", "-0x10", "017", "0b11", "9223372036854775807", " 5", "08"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseInt(s)
		// Whatever strconv accepts in base 0 without underscores or the
		// 0o prefix must agree.
		want, werr := strconv.ParseInt(s, 0, 64)
		if werr != nil || containsAny(s, "_oO") || (len(s) > 1 && s[0] == '0' && s[1] != 'x' && s[1] != 'X' && s[1] != 'b' && s[1] != 'B') {
			return
		}
		if err != nil || got != want {
			t.Fatalf("ParseInt(%q) = %d, %v; strconv says %d", s, got, err, want)
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"4gb", "-1", "512MiB", " 7 e", "8e", "k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSize(s)
		if err != nil {
			return
		}
		// A valid size without a unit is a plain decimal number.
		if n, perr := strconv.ParseInt(s, 10, 64); perr == nil && n != got {
			t.Fatalf("ParseSize(%q) = %d, want %d", s, got, n)
		}
	})
}

func containsAny(s, chars string) bool {
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(chars); j++ {
			if s[i] == chars[j] {
				return true
			}
		}
	}
	return false
}
