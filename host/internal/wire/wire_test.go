package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// encodeLua encodes the value of a Lua expression.
func encodeLua(t *testing.T, L *lua.LState, expr string) ([]byte, error) {
	t.Helper()
	if err := L.DoString("return " + expr); err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	v := L.Get(-1)
	L.Pop(1)
	var w Buffer
	w.Reset(0)
	err := EncodeLua(&w, v)
	return append([]byte(nil), w.Bytes()...), err
}

func TestEncodeLuaBytes(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	tests := []struct {
		expr string
		want string // hex
	}{
		{"nil", "00"},
		{"false", "01"},
		{"true", "02"},
		{"0", "0300"},
		{"1", "0302"},
		{"-1", "0301"},
		{"2^53", "03" + "8080808080808020"},
		{"0.5", "04000000000000e03f"},
		{"-0", "040000000000000080"},
		{"1/0", "04000000000000f07f"},
		{"-1/0", "04000000000000f0ff"},
		{"2^63", "04000000000000e043"},
		{"-2^63", "04000000000000e0c3"},
		{"''", "0500"},
		{"'a\\0b'", "0503610062"},
		{"{}", "060000"},
		{"{1, 2}", "06020302030400"},
		{"{x = true}", "06000105017802"},
		// Sorted keys: booleans, numbers, strings; the sequence first.
		{"{'s', [true] = 1, [0.5] = 2, b = 3, a = 4, [-1] = 5}",
			"0601050173" + "05" + "020302" + "0301030a" + "04000000000000e03f0304" + "0501610308" + "0501620306"},
	}
	for _, tt := range tests {
		got, err := encodeLua(t, L, tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if hex.EncodeToString(got) != tt.want {
			t.Errorf("%s: encoded %x, want %s", tt.expr, got, tt.want)
		}
	}
}

func TestEncodeLuaRefuses(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	tests := []struct {
		expr, want string
	}{
		{"print", "a function cannot be sent"},
		{"{f = print}", "at .f: a function cannot be sent"},
		{"{1, {2, {print}}}", "at [2][2][1]: a function cannot be sent"},
		{"{['a b'] = coroutine.create(print)}", `at ["a b"]: a thread cannot be sent`},
		{"(function() local t = {} t.self = t return t end)()", "at .self: the table contains itself"},
		{"(function() local t = {{}} t[1][1] = t return t end)()", "at [1][1]: the table contains itself"},
		{"{[{}] = 1}", "a table used as a table key cannot be sent"},
		{"(function() local t = {} local c = t for i = 1, 300 do c.n = {} c = c.n end return t end)()", "nest deeper than 200"},
	}
	for _, tt := range tests {
		_, err := encodeLua(t, L, tt.expr)
		var ve *ValueError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.expr, err, tt.want)
		}
	}
	// A table shared twice (not a cycle) is fine: it is sent twice.
	if _, err := encodeLua(t, L, "(function() local s = {1} return {s, s, {s}} end)()"); err != nil {
		t.Errorf("shared table: %v", err)
	}
}

func TestEncodeLuaLimit(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	var w Buffer
	w.Limit = 100
	w.Reset(0)
	if err := EncodeLua(&w, lua.LString(strings.Repeat("x", 200))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("string over the limit: %v, want ErrTooLarge", err)
	}
	// A shared table doubling at every level: 2^30 copies.
	L.DoString(`local t = {1} for i = 1, 30 do t = {t, t} end big = t`)
	w.Reset(0)
	w.Limit = 1 << 20
	if err := EncodeLua(&w, L.GetGlobal("big")); !errors.Is(err, ErrTooLarge) {
		t.Errorf("exponential table: %v, want ErrTooLarge", err)
	}
}

// TestLuaRoundTrip decodes what was encoded and encodes it again.
func TestLuaRoundTrip(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	for _, expr := range []string{
		"nil", "true", "0", "-0", "0/0", "1/0", "-1/0", "2^53 + 1", "2^63", "-2^63", "1e308", "5e-324", "0.1",
		"'\\0\\255\\n'", "string.rep('x', 100000)",
		"{1, 2, nil, 4}", "{[1.5] = 1, [-3] = 2, [2^40] = 3, [true] = false}",
		"{a = {b = {c = {}}}, [1] = {1, {2}}}",
	} {
		enc, err := encodeLua(t, L, expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		r := NewReader(enc)
		v := DecodeLua(r, L)
		if r.Err() != nil || r.Left() != 0 {
			t.Fatalf("%s: decode: %v (%d bytes left)", expr, r.Err(), r.Left())
		}
		var w Buffer
		w.Reset(0)
		if err := EncodeLua(&w, v); err != nil || !bytes.Equal(w.Bytes(), enc) {
			t.Errorf("%s: re-encoded %x (%v), want %x", expr, w.Bytes(), err, enc)
		}
	}
	// The NaN payload survives.
	bits := uint64(0x7ff8000000000abc)
	var w Buffer
	w.Reset(0)
	w.Number(math.Float64frombits(bits))
	r := NewReader(w.Bytes())
	if got := math.Float64bits(float64(DecodeLua(r, L).(lua.LNumber))); got != bits {
		t.Errorf("NaN bits %#x, want %#x", got, bits)
	}
}

func TestDecodeRefuses(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	tests := []struct {
		name, hex, want string
	}{
		{"empty", "", "truncated"},
		{"unknown tag", "09", "unknown value tag 9"},
		{"long string", "05ff01", "string length 255 exceeds"},
		{"bad varint", "03ffffffffffffffffffff", "bad varint"},
		{"short float", "040000", "truncated number"},
		{"huge count", "06ffffffff0f00", "exceeds the message"},
		{"nil in sequence", "060100" + "00", "nil in the sequence"},
		{"nil key", "0600010000", "nil table key"},
		{"NaN key", "060001" + "04000000000000f87f" + "02", "NaN table key"},
		{"table key", "060001" + "060000" + "02", "table used as a table key"},
		{"sparse", "060001" + "0380808020" + "02", "too sparse"}, // [2^25] = true
		{"deep", strings.Repeat("0601", 201) + "00" + strings.Repeat("00", 201), "nest deeper"},
	}
	for _, tt := range tests {
		b, err := hex.DecodeString(tt.hex)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		r := NewReader(b)
		DecodeLua(r, L)
		if r.Err() == nil || !strings.Contains(r.Err().Error(), tt.want) {
			t.Errorf("%s: DecodeLua error %v, want %q", tt.name, r.Err(), tt.want)
		}
		if tt.name == "sparse" {
			continue // Go maps are not sparse-array prone
		}
		r = NewReader(b)
		DecodeGo(r)
		if r.Err() == nil {
			t.Errorf("%s: DecodeGo accepted it", tt.name)
		}
	}
}

func TestEncodeGo(t *testing.T) {
	type myString string
	s := "p"
	tests := []struct {
		name string
		in   any
		want any // after DecodeGo
	}{
		{"nil", nil, nil},
		{"bool", true, true},
		{"int", 42, 42.0},
		{"int8", int8(-3), -3.0},
		{"uint64", uint64(1 << 53), float64(1 << 53)},
		{"float32", float32(0.5), 0.5},
		{"string", "a\x00b", "a\x00b"},
		{"bytes", []byte{0, 255}, "\x00\xff"},
		{"named string", myString("n"), "n"},
		{"pointer", &s, "p"},
		{"slice", []any{1, "a", []int{2}}, []any{1.0, "a", []any{2.0}}},
		{"array", [2]bool{true, false}, []any{true, false}},
		{"empty slice", []string{}, map[string]any{}},
		{"string map", map[string]int{"a": 1}, map[string]any{"a": 1.0}},
		{"int map is a sequence", map[int]string{1: "x", 2: "y"}, []any{"x", "y"}},
		{"mixed map", map[any]any{1: "x", "k": true, 2.5: 1}, map[any]any{1.0: "x", "k": true, 2.5: 1.0}},
		{"nil map value dropped", map[string]any{"a": nil, "b": 1}, map[string]any{"b": 1.0}},
		{"float keys", map[float64]int{-0.0: 1}, map[any]any{0.0: 1.0}},
	}
	for _, tt := range tests {
		var w Buffer
		w.Reset(0)
		if err := EncodeGo(&w, tt.in); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		r := NewReader(w.Bytes())
		got := DecodeGo(r)
		if r.Err() != nil || r.Left() != 0 {
			t.Errorf("%s: decode: %v", tt.name, r.Err())
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %#v, want %#v", tt.name, got, tt.want)
		}
	}
}

func TestEncodeGoRefuses(t *testing.T) {
	cyc := map[string]any{}
	cyc["me"] = cyc
	sl := []any{nil}
	sl[0] = sl
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"func", func() {}, "a Go func() cannot be sent"},
		{"struct", struct{ A int }{1}, "use a map for a record"},
		{"chan in map", map[string]any{"c": make(chan int)}, "at .c: a Go chan int"},
		{"big int", int64(1<<53 + 1), "cannot be sent exactly"},
		{"big uint", uint64(1 << 60), "cannot be sent exactly"},
		{"nil in slice", []any{1, nil}, "at [2]: nil in a sequence"},
		{"map cycle", cyc, "at .me: the value contains itself"},
		{"slice cycle", sl, "at [1]: the value contains itself"},
		{"NaN key", map[float64]int{math.NaN(): 1}, "NaN map key"},
		{"struct key", map[struct{}]int{{}: 1}, "a map key of type struct {}"},
		{"same Lua key", map[any]int{1: 1, 1.0: 2}, "two keys become the same Lua key [1]"},
	}
	for _, tt := range tests {
		var w Buffer
		w.Reset(0)
		err := EncodeGo(&w, tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestReadFrame(t *testing.T) {
	var w Buffer
	w.Reset('Z')
	w.String("hello")
	f, err := w.Frame()
	if err != nil {
		t.Fatal(err)
	}
	stream := bytes.NewReader(append(append([]byte{}, f...), f...))
	for i := 0; i < 2; i++ {
		p, err := ReadFrame(stream, nil, 100)
		if err != nil || p[0] != 'Z' || NewReader(p[1:]).String() != "hello" {
			t.Fatalf("frame %d: %q, %v", i, p, err)
		}
	}
	if _, err := ReadFrame(stream, nil, 100); err == nil {
		t.Error("read past the end")
	}
	if _, err := ReadFrame(bytes.NewReader(f), nil, 3); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
}

// FuzzDecode feeds arbitrary bytes to both decoders: they must not panic,
// and whatever they accept must encode back to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"00", "0302", "060203020304" + "00", "06000105017802", "04000000000000f87f", "0503610062"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	L := lua.NewState()
	defer L.Close()
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(b)
		v := DecodeLua(r, L)
		if r.Err() == nil {
			var w Buffer
			w.Reset(0)
			if err := EncodeLua(&w, v); err != nil {
				t.Fatalf("re-encoding %x: %v", b, err)
			}
			// Accepted input may be non-canonical (unsorted keys), but
			// the canonical form must decode to itself.
			r2 := NewReader(w.Bytes())
			v2 := DecodeLua(r2, L)
			var w2 Buffer
			w2.Reset(0)
			EncodeLua(&w2, v2)
			if !bytes.Equal(w.Bytes(), w2.Bytes()) {
				t.Fatalf("canonical form of %x is not stable", b)
			}
		}
		DecodeGo(NewReader(b))
	})
}
