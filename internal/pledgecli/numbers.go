package pledgecli

import (
	"errors"
	"math"
	"math/bits"
)

// Errors of the number parsers, wrapped in the *Error that Parse returns.
var (
	// ErrSyntax: the text is not a number of the expected form.
	ErrSyntax = errors.New("invalid syntax")
	// ErrRange: the number does not fit in 64 bits.
	ErrRange = errors.New("value out of range")
)

// ParseInt parses s like pledge.com's Atoi, i.e. Cosmopolitan's
// strtol(s, &end, 0) with "*end or errno is an error": optional spaces and
// tabs, an optional sign, then "0x"/"0X" hex, "0b"/"0B" binary, a leading
// "0" octal, or decimal. Trailing characters are an error (ErrSyntax), and
// so is overflow (ErrRange). Two corner cases follow the C code: a text
// without any digit that is empty (or only a prefix like "0x") is 0.
func ParseInt(s string) (int64, error) { return parseInt(s) }

func parseInt(s string) (int64, error) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	end := 0 // strtol's *endptr: the start, unless some digit was seen
	seen := false
	base := uint64(10)
	if i < len(s) && s[i] == '0' {
		seen = true
		i++
		base = 8
		if i < len(s) {
			switch s[i] {
			case 'x', 'X':
				base = 16
				i++
			case 'b', 'B':
				base = 2
				i++
			}
		}
	}
	var x uint64 // magnitude
	overflow := false
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	for ; i < len(s); i++ {
		d := digitValue(s[i])
		if d >= base {
			break
		}
		seen = true
		hi, lo := bits.Mul64(x, base)
		lo, carry := bits.Add64(lo, d, 0)
		if hi != 0 || carry != 0 || lo > limit {
			overflow = true
			continue
		}
		x = lo
	}
	if seen {
		end = i
	}
	if end < len(s) {
		return 0, ErrSyntax
	}
	if overflow {
		return 0, ErrRange
	}
	if neg {
		return int64(-x), nil // -2^63 wraps to itself
	}
	return int64(x), nil
}

// digitValue is the value of c as a base-36 digit, or 36 when it is none.
func digitValue(c byte) uint64 {
	switch {
	case '0' <= c && c <= '9':
		return uint64(c - '0')
	case 'a' <= c && c <= 'z':
		return uint64(c-'a') + 10
	case 'A' <= c && c <= 'Z':
		return uint64(c-'A') + 10
	}
	return 36
}

// ParseSize parses a size like pledge.com's -M and -F (Cosmopolitan's
// sizetol with base 1024): optional spaces and tabs, an optional sign, at
// least one decimal digit, then either the end, a space or a tab (no unit)
// or one of k m g t p e in either case (×1024¹…1024⁶), after which anything
// is ignored: "4gb", "512MiB" and "10 apples" are valid. Negative sizes are
// accepted. Anything else is ErrSyntax; overflow is ErrRange.
func ParseSize(s string) (int64, error) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	sign := int64(1)
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		if s[i] == '-' {
			sign = -1
		}
		i++
	}
	if i >= len(s) || s[i] < '0' || s[i] > '9' {
		return 0, ErrSyntax
	}
	var x int64
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		d := int64(s[i]-'0') * sign
		if x > math.MaxInt64/10 || x < math.MinInt64/10 {
			return 0, ErrRange
		}
		x *= 10
		if (d > 0 && x > math.MaxInt64-d) || (d < 0 && x < math.MinInt64-d) {
			return 0, ErrRange
		}
		x += d
	}
	exp := 0
	if i < len(s) {
		switch s[i] {
		case ' ', '\t':
		case 'k', 'K':
			exp = 1
		case 'm', 'M':
			exp = 2
		case 'g', 'G':
			exp = 3
		case 't', 'T':
			exp = 4
		case 'p', 'P':
			exp = 5
		case 'e', 'E':
			exp = 6
		default:
			return 0, ErrSyntax
		}
	}
	for ; exp > 0; exp-- {
		if x > math.MaxInt64/1024 || x < math.MinInt64/1024 {
			return 0, ErrRange
		}
		x *= 1024
	}
	return x, nil
}
