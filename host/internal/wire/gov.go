package wire

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// goEncoder encodes Go values, tracking the maps and slices on the
// current path to refuse cycles.
type goEncoder struct {
	w     *Buffer
	stack []uintptr
	path  []string
}

// EncodeGo appends the Go value v. It accepts nil, bool, every integer
// and float type, string, []byte (sent as a string), slices and arrays
// (sequences 1..n; a nil element is refused because Lua sequences cannot
// hold nil) and maps whose keys are strings, numbers or booleans, nested
// in any way, and pointers or interfaces to these. Integers beyond ±2^53
// that a float64 cannot hold exactly are refused, as are NaN map keys,
// cycles and anything else (structs, functions, channels), with a
// *ValueError.
func EncodeGo(w *Buffer, v any) error {
	e := goEncoder{w: w}
	return e.value(v)
}

func (e *goEncoder) fail(problem string) error {
	return &ValueError{Path: strings.Join(e.path, ""), Problem: problem}
}

func (e *goEncoder) value(v any) error {
	switch v := v.(type) {
	case nil:
		e.w.Nil()
	case bool:
		e.w.Bool(v)
	case string:
		e.w.Str(v)
	case []byte:
		e.w.Str(string(v))
	case float64:
		e.w.Number(v)
	case float32:
		e.w.Number(float64(v))
	case int:
		return e.integer(int64(v))
	case int64:
		return e.integer(v)
	case int32:
		e.w.Number(float64(v))
	case int16:
		e.w.Number(float64(v))
	case int8:
		e.w.Number(float64(v))
	case uint:
		return e.unsigned(uint64(v))
	case uint64:
		return e.unsigned(v)
	case uint32:
		e.w.Number(float64(v))
	case uint16:
		e.w.Number(float64(v))
	case uint8:
		e.w.Number(float64(v))
	case []any:
		return e.slice(reflect.ValueOf(v))
	case map[string]any:
		return e.mapValue(reflect.ValueOf(v))
	default:
		return e.reflectValue(reflect.ValueOf(v))
	}
	return e.w.Err()
}

const maxExact = 1 << 53

func (e *goEncoder) integer(i int64) error {
	if i > maxExact || i < -maxExact {
		return e.fail(fmt.Sprintf("the integer %d cannot be sent exactly: Lua numbers are float64, exact only up to ±2^53 (send it as a string)", i))
	}
	e.w.Number(float64(i))
	return e.w.Err()
}

func (e *goEncoder) unsigned(u uint64) error {
	if u > maxExact {
		return e.fail(fmt.Sprintf("the integer %d cannot be sent exactly: Lua numbers are float64, exact only up to 2^53 (send it as a string)", u))
	}
	e.w.Number(float64(u))
	return e.w.Err()
}

func (e *goEncoder) reflectValue(rv reflect.Value) error {
	switch rv.Kind() {
	case reflect.Invalid:
		e.w.Nil()
		return e.w.Err()
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			e.w.Nil()
			return e.w.Err()
		}
		return e.value(rv.Elem().Interface())
	case reflect.Bool:
		e.w.Bool(rv.Bool())
	case reflect.String:
		e.w.Str(rv.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return e.integer(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return e.unsigned(rv.Uint())
	case reflect.Float32, reflect.Float64:
		e.w.Number(rv.Float())
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			e.w.Str(string(rv.Bytes()))
			return e.w.Err()
		}
		return e.slice(rv)
	case reflect.Array:
		return e.slice(rv)
	case reflect.Map:
		return e.mapValue(rv)
	default:
		return e.fail(fmt.Sprintf("a Go %s cannot be sent (%s; use a map for a record)", rv.Type(), Sendable))
	}
	return e.w.Err()
}

// enter refuses cycles and excessive depth; it returns a function that
// leaves the level.
func (e *goEncoder) enter(rv reflect.Value) (func(), error) {
	var p uintptr
	if rv.Kind() == reflect.Map || rv.Kind() == reflect.Slice && rv.Len() > 0 {
		p = rv.Pointer()
		for _, s := range e.stack {
			if s == p && p != 0 {
				return nil, e.fail("the value contains itself (a cycle); " + Sendable + " without cycles")
			}
		}
	}
	if len(e.stack) >= MaxDepth {
		return nil, e.fail(fmt.Sprintf("values nest deeper than %d levels", MaxDepth))
	}
	e.stack = append(e.stack, p)
	return func() { e.stack = e.stack[:len(e.stack)-1] }, nil
}

func (e *goEncoder) slice(rv reflect.Value) error {
	leave, err := e.enter(rv)
	if err != nil {
		return err
	}
	defer leave()
	n := rv.Len()
	e.w.Byte(TagTable)
	e.w.Uvarint(uint64(n))
	for i := 0; i < n; i++ {
		e.path = append(e.path, "["+strconv.Itoa(i+1)+"]")
		el := rv.Index(i)
		if isNil(el) {
			return e.fail("nil in a sequence: a Lua table cannot hold nil (use a map, or false)")
		}
		if err := e.value(el.Interface()); err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
	}
	e.w.Uvarint(0)
	return e.w.Err()
}

func isNil(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Invalid:
		return true
	case reflect.Interface:
		return v.IsNil() || isNil(v.Elem())
	case reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// goKey is a map key after conversion to its Lua form.
type goKey struct {
	k    any // bool, float64 or string
	orig reflect.Value
}

func (e *goEncoder) mapValue(rv reflect.Value) error {
	leave, err := e.enter(rv)
	if err != nil {
		return err
	}
	defer leave()
	keys := make([]goKey, 0, rv.Len())
	iter := rv.MapRange()
	for iter.Next() {
		k, err := e.key(iter.Key())
		if err != nil {
			return err
		}
		if isNil(iter.Value()) {
			continue // as in Lua, where t[k] = nil removes k
		}
		keys = append(keys, goKey{k, iter.Key()})
	}
	sort.Slice(keys, func(i, j int) bool { return lessKey(keys[i].k, keys[j].k) })
	for i := 1; i < len(keys); i++ {
		if keys[i].k == keys[i-1].k {
			return e.fail(fmt.Sprintf("two keys become the same Lua key %s", pathKey(keys[i].k)))
		}
	}
	// The sequence part: keys 1..n present as numbers.
	n := 0
	for _, k := range keys {
		if f, ok := k.k.(float64); ok && f == float64(n+1) {
			n++
		}
	}
	e.w.Byte(TagTable)
	e.w.Uvarint(uint64(n))
	var rest []goKey
	for _, k := range keys {
		if f, ok := k.k.(float64); ok && f >= 1 && f <= float64(n) && f == math.Trunc(f) {
			continue
		}
		rest = append(rest, k)
	}
	byIndex := make([]reflect.Value, n)
	for _, k := range keys {
		if f, ok := k.k.(float64); ok && f >= 1 && f <= float64(n) && f == math.Trunc(f) {
			byIndex[int(f)-1] = k.orig
		}
	}
	for i, k := range byIndex {
		e.path = append(e.path, "["+strconv.Itoa(i+1)+"]")
		if err := e.value(rv.MapIndex(k).Interface()); err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
	}
	e.w.Uvarint(uint64(len(rest)))
	for _, k := range rest {
		e.path = append(e.path, pathKey(k.k))
		switch kk := k.k.(type) {
		case bool:
			e.w.Bool(kk)
		case float64:
			e.w.Number(kk)
		case string:
			e.w.Str(kk)
		}
		if err := e.value(rv.MapIndex(k.orig).Interface()); err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
	}
	return e.w.Err()
}

// key converts a Go map key to its Lua form.
func (e *goEncoder) key(k reflect.Value) (any, error) {
	for k.Kind() == reflect.Interface || k.Kind() == reflect.Pointer {
		if k.IsNil() {
			return nil, e.fail("a nil map key cannot be sent")
		}
		k = k.Elem()
	}
	switch k.Kind() {
	case reflect.String:
		return k.String(), nil
	case reflect.Bool:
		return k.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i := k.Int()
		if i > maxExact || i < -maxExact {
			return nil, e.fail(fmt.Sprintf("the map key %d cannot be sent exactly as a Lua number", i))
		}
		return float64(i), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := k.Uint()
		if u > maxExact {
			return nil, e.fail(fmt.Sprintf("the map key %d cannot be sent exactly as a Lua number", u))
		}
		return float64(u), nil
	case reflect.Float32, reflect.Float64:
		f := k.Float()
		if math.IsNaN(f) {
			return nil, e.fail("a NaN map key cannot be sent (Lua tables cannot have NaN keys)")
		}
		if f == 0 {
			f = 0 // -0 and 0 are the same Lua key
		}
		return f, nil
	}
	return nil, e.fail(fmt.Sprintf("a map key of type %s cannot be sent (keys must be strings, numbers or booleans)", k.Type()))
}

func keyRankGo(k any) int {
	switch k.(type) {
	case bool:
		return 0
	case float64:
		return 1
	}
	return 2
}

func lessKey(a, b any) bool {
	ra, rb := keyRankGo(a), keyRankGo(b)
	if ra != rb {
		return ra < rb
	}
	switch a := a.(type) {
	case bool:
		return !a && b.(bool)
	case float64:
		return a < b.(float64)
	case string:
		return a < b.(string)
	}
	return false
}

// DecodeGo reads one value as Go data: nil, bool, float64, string, or for
// a table []any when it is a non-empty sequence 1..n, map[string]any
// when every key is a string (also the empty table) and map[any]any
// otherwise (keys bool, float64 or string). Errors are recorded in r.
func DecodeGo(r *Reader) any {
	return decodeGo(r, 0)
}

func decodeGo(r *Reader, depth int) any {
	switch tag := r.Byte(); tag {
	case TagNil:
		return nil
	case TagFalse:
		return false
	case TagTrue:
		return true
	case TagInt:
		return float64(r.Varint())
	case TagFloat:
		return r.Float()
	case TagString:
		return r.String()
	case TagTable:
		if depth >= MaxDepth {
			r.Failf("tables nest deeper than %d levels", MaxDepth)
			return nil
		}
		n := r.Count(1)
		seq := make([]any, 0, n)
		for i := 0; i < n && r.err == nil; i++ {
			v := decodeGo(r, depth+1)
			if v == nil {
				r.Failf("nil in the sequence part of a table")
			}
			seq = append(seq, v)
		}
		m := r.Count(2)
		if m == 0 {
			if n == 0 {
				return map[string]any{}
			}
			return seq
		}
		keys := make([]any, 0, m)
		vals := make([]any, 0, m)
		allStrings := n == 0
		for i := 0; i < m && r.err == nil; i++ {
			k := decodeGo(r, depth+1)
			v := decodeGo(r, depth+1)
			switch kk := k.(type) {
			case string:
			case bool:
				allStrings = false
			case float64:
				if math.IsNaN(kk) {
					r.Failf("NaN table key")
				}
				allStrings = false
			default:
				r.Failf("table key of type %T", k)
			}
			keys, vals = append(keys, k), append(vals, v)
		}
		if r.err != nil {
			return nil
		}
		if allStrings {
			out := make(map[string]any, m)
			for i, k := range keys {
				out[k.(string)] = vals[i]
			}
			return out
		}
		out := make(map[any]any, n+m)
		for i, v := range seq {
			out[float64(i+1)] = v
		}
		for i, k := range keys {
			out[k] = vals[i]
		}
		return out
	default:
		if r.err == nil {
			r.Failf("unknown value tag %d", tag)
		}
	}
	return nil
}
