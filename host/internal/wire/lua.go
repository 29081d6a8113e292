package wire

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// ValueError says why a value cannot be sent: Path locates the bad part
// inside the value ("" for the value itself, else like `.name[2]`).
type ValueError struct {
	Path    string
	Problem string
}

func (e *ValueError) Error() string {
	if e.Path == "" {
		return e.Problem
	}
	return "at " + e.Path + ": " + e.Problem
}

// Sendable is the list of what may cross, for messages.
const Sendable = "only nil, booleans, numbers, strings and tables of these can cross to or from a sandboxed process"

// pathKey renders one step of a path: .name for identifier-like strings,
// [key] otherwise.
func pathKey(k any) string {
	switch k := k.(type) {
	case string:
		if isIdent(k) {
			return "." + k
		}
		return "[" + strconv.Quote(k) + "]"
	case float64:
		return "[" + formatNumber(k) + "]"
	}
	return fmt.Sprintf("[%v]", k)
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

func formatNumber(f float64) string {
	return lua.LNumber(f).String()
}

// luaEncoder encodes Lua values, tracking the tables on the current path
// to refuse cycles.
type luaEncoder struct {
	w     *Buffer
	stack []*lua.LTable
	path  []string
}

// EncodeLua appends v to w. Functions, userdata, threads, channels and
// tables that contain themselves are refused with a *ValueError, as are
// tables nested deeper than MaxDepth; w.Err reports a size overflow.
func EncodeLua(w *Buffer, v lua.LValue) error {
	e := luaEncoder{w: w}
	return e.value(v)
}

func (e *luaEncoder) fail(problem string) error {
	return &ValueError{Path: strings.Join(e.path, ""), Problem: problem}
}

func (e *luaEncoder) value(v lua.LValue) error {
	switch v := v.(type) {
	case *lua.LNilType:
		e.w.Nil()
	case lua.LBool:
		e.w.Bool(bool(v))
	case lua.LNumber:
		e.w.Number(float64(v))
	case lua.LString:
		e.w.Str(string(v))
	case *lua.LTable:
		return e.table(v)
	default:
		return e.fail(fmt.Sprintf("a %s cannot be sent (%s)", v.Type(), Sendable))
	}
	return e.w.Err()
}

func (e *luaEncoder) table(t *lua.LTable) error {
	for _, s := range e.stack {
		if s == t {
			return e.fail("the table contains itself (a cycle); " + Sendable + " without cycles")
		}
	}
	if len(e.stack) >= MaxDepth {
		return e.fail(fmt.Sprintf("tables nest deeper than %d levels", MaxDepth))
	}
	e.stack = append(e.stack, t)
	defer func() { e.stack = e.stack[:len(e.stack)-1] }()

	n := 0
	for t.RawGetInt(n+1) != lua.LNil {
		n++
	}
	var rest []lua.LValue
	t.ForEach(func(k, _ lua.LValue) {
		if num, ok := k.(lua.LNumber); ok {
			f := float64(num)
			if f >= 1 && f <= float64(n) && f == math.Trunc(f) {
				return
			}
		}
		rest = append(rest, k)
	})
	sortKeys(rest)

	e.w.Byte(TagTable)
	e.w.Uvarint(uint64(n))
	for i := 1; i <= n; i++ {
		e.path = append(e.path, "["+strconv.Itoa(i)+"]")
		err := e.value(t.RawGetInt(i))
		e.path = e.path[:len(e.path)-1]
		if err != nil {
			return err
		}
	}
	e.w.Uvarint(uint64(len(rest)))
	for _, k := range rest {
		var pk any
		switch k := k.(type) {
		case lua.LString:
			pk = string(k)
		case lua.LNumber:
			pk = float64(k)
		default:
			pk = k.String()
		}
		e.path = append(e.path, pathKey(pk))
		if err := e.keyValue(k); err != nil {
			return err
		}
		err := e.value(t.RawGet(k))
		e.path = e.path[:len(e.path)-1]
		if err != nil {
			return err
		}
	}
	return e.w.Err()
}

// keyValue encodes a table key; only booleans, numbers and strings can be
// keys on the wire.
func (e *luaEncoder) keyValue(k lua.LValue) error {
	switch k.(type) {
	case lua.LBool, lua.LNumber, lua.LString:
		return e.value(k)
	}
	return e.fail(fmt.Sprintf("a %s used as a table key cannot be sent (keys must be booleans, numbers or strings)", k.Type()))
}

// keyRank orders key types: booleans, numbers, strings, the rest.
func keyRank(v lua.LValue) int {
	switch v.(type) {
	case lua.LBool:
		return 0
	case lua.LNumber:
		return 1
	case lua.LString:
		return 2
	}
	return 3
}

func sortKeys(keys []lua.LValue) {
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		ra, rb := keyRank(a), keyRank(b)
		if ra != rb {
			return ra < rb
		}
		switch a := a.(type) {
		case lua.LBool:
			return !bool(a) && bool(b.(lua.LBool))
		case lua.LNumber:
			return a < b.(lua.LNumber)
		case lua.LString:
			return a < b.(lua.LString)
		}
		return false
	})
}

// DecodeLua reads one value into L's heap (tables are created in L).
// Errors are recorded in r.
//
// gopher-lua stores every integer key from 1 to lua.MaxArrayIndex in a
// table's array part, filling the gap with nils, so a few bytes on the
// wire ({[60000000] = 1}) could make the receiver allocate a gigabyte. The
// decoder therefore allows array slots for at most arraySlotsPerByte times
// the payload size plus minArraySlots over the whole message, and refuses
// sparser tables.
func DecodeLua(r *Reader, L *lua.LState) lua.LValue {
	if r.slots == 0 {
		r.slots = minArraySlots + arraySlotsPerByte*int64(len(r.b))
	}
	return decodeLua(r, L, 0)
}

// Budget of array slots for DecodeLua.
const (
	minArraySlots     = 1 << 20
	arraySlotsPerByte = 16
)

// arrayKey returns the array index gopher-lua would use for k, or 0.
func arrayKey(k lua.LValue) int64 {
	n, ok := k.(lua.LNumber)
	if !ok {
		return 0
	}
	f := float64(n)
	if f >= 1 && f < float64(lua.MaxArrayIndex) && f == math.Trunc(f) {
		return int64(f)
	}
	return 0
}

func decodeLua(r *Reader, L *lua.LState, depth int) lua.LValue {
	switch tag := r.Byte(); tag {
	case TagNil:
		return lua.LNil
	case TagFalse:
		return lua.LFalse
	case TagTrue:
		return lua.LTrue
	case TagInt:
		return lua.LNumber(r.Varint())
	case TagFloat:
		return lua.LNumber(r.Float())
	case TagString:
		return lua.LString(r.String())
	case TagTable:
		if depth >= MaxDepth {
			r.Failf("tables nest deeper than %d levels", MaxDepth)
			return lua.LNil
		}
		n := r.Count(1)
		if r.slots -= int64(n); r.slots < 0 {
			r.Failf("tables too sparse or too large for the message")
			return lua.LNil
		}
		t := L.CreateTable(n, 0)
		high := int64(n) // array slots this table has so far
		for i := 1; i <= n && r.err == nil; i++ {
			v := decodeLua(r, L, depth+1)
			if v == lua.LNil {
				r.Failf("nil in the sequence part of a table")
				break
			}
			t.RawSetInt(i, v)
		}
		m := r.Count(2)
		for i := 0; i < m && r.err == nil; i++ {
			k := decodeLua(r, L, depth+1)
			v := decodeLua(r, L, depth+1)
			if r.err != nil {
				break
			}
			switch kk := k.(type) {
			case *lua.LNilType:
				r.Failf("nil table key")
			case lua.LNumber:
				if math.IsNaN(float64(kk)) {
					r.Failf("NaN table key")
				}
			case *lua.LTable:
				r.Failf("table used as a table key")
			}
			if i := arrayKey(k); i > high {
				if r.slots -= i - high; r.slots < 0 {
					r.Failf("tables too sparse or too large for the message")
				}
				high = i
			}
			if r.err == nil {
				t.RawSet(k, v)
			}
		}
		return t
	default:
		if r.err == nil {
			r.Failf("unknown value tag %d", tag)
		}
	}
	return lua.LNil
}
