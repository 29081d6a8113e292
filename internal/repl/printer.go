package repl

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"github.com/vow-sandbox/vow/lualib"
)

// printer renders Lua values for the REPL: strings quoted as Lua source,
// tables with their contents (sorted keys, nested, cycles marked, cut
// when huge), unix.Errno objects with their name and doc, and other
// values through their __tostring.
type printer struct {
	L *lua.LState
	// Width is the line length a table is kept on one line within.
	Width int
	// MaxDepth is how many tables deep contents are shown; deeper
	// tables print as {…}.
	MaxDepth int
	// MaxItems is how many entries of one table are shown.
	MaxItems int
	// MaxTotal is how many table entries one value shows in all.
	MaxTotal int
	// MaxString is how many bytes of a string inside a table are shown.
	MaxString int

	total int // entries shown so far
}

func newPrinter(L *lua.LState) *printer {
	return &printer{L: L, Width: 78, MaxDepth: 6, MaxItems: 100, MaxTotal: 1000, MaxString: 200}
}

// values renders the results of one evaluation, separated by tabs as Lua's
// print does.
func (p *printer) values(vs []lua.LValue) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = p.value(v)
	}
	return strings.Join(parts, "\t")
}

// value renders one value; top-level strings are shown in full.
func (p *printer) value(v lua.LValue) string {
	p.total = 0
	if s, ok := v.(lua.LString); ok {
		return quote(string(s))
	}
	return p.render(v, 0, nil)
}

// render renders v at the given indentation; stack holds the tables being
// rendered around v, to mark cycles.
func (p *printer) render(v lua.LValue, indent int, stack []*lua.LTable) string {
	switch v := v.(type) {
	case lua.LString:
		s := string(v)
		if p.MaxString > 0 && len(s) > p.MaxString {
			cut := p.MaxString
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
			return quote(s[:cut]) + fmt.Sprintf("…(%d bytes)", len(s))
		}
		return quote(s)
	case lua.LNumber:
		return number(v)
	case *lua.LUserData:
		if e, ok := v.Value.(*lualib.Errno); ok {
			return errnoString(e)
		}
		return p.tostring(v)
	case *lua.LTable:
		if p.hasToString(v) {
			return p.tostring(v)
		}
		return p.table(v, indent, stack)
	}
	return p.tostring(v)
}

// number renders a Lua number: integers without a fraction, others
// as tostring does.
func number(n lua.LNumber) string {
	f := float64(n)
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return n.String()
}

// errnoString renders a unix.Errno with its name and doc:
// unix.Errno(EPERM: open() failed: Operation not permitted).
func errnoString(e *lualib.Errno) string {
	doc := e.Doc
	if doc == "" {
		doc = lualib.ErrnoDoc(e.Errno)
	}
	if e.Call != "" {
		doc = e.Call + "() failed: " + doc
	}
	return "unix.Errno(" + lualib.ErrnoName(e.Errno) + ": " + doc + ")"
}

// hasToString reports whether v's metatable has a __tostring.
func (p *printer) hasToString(v lua.LValue) bool {
	return p.L.GetMetaField(v, "__tostring") != lua.LNil
}

// tostring is Lua's tostring(v), protected: a failing __tostring is shown
// as the plain address form with the error.
func (p *printer) tostring(v lua.LValue) string {
	fn := p.L.GetGlobal("tostring")
	if f, ok := fn.(*lua.LFunction); ok {
		if err := p.L.CallByParam(lua.P{Fn: f, NRet: 1, Protect: true}, v); err == nil {
			r := p.L.Get(-1)
			p.L.Pop(1)
			if s, ok := r.(lua.LString); ok {
				return string(s)
			}
		} else {
			return fmt.Sprintf("%s (__tostring failed: %s)", v.String(), firstLine(err.Error()))
		}
	}
	return v.String()
}

// entry is one key/value pair of a table being rendered.
type entry struct {
	key, val lua.LValue
	seq      bool // part of the sequence 1..n: shown without its key
}

// table renders t on one line when that fits, else one entry a line.
func (p *printer) table(t *lua.LTable, indent int, stack []*lua.LTable) string {
	for _, s := range stack {
		if s == t {
			return "<cycle>"
		}
	}
	if len(stack) >= p.MaxDepth {
		if isEmpty(t) {
			return "{}"
		}
		return "{…}"
	}
	entries := sortedEntries(t)
	if len(entries) == 0 {
		return "{}"
	}
	stack = append(stack, t)
	var parts []string
	multiline := false
	for i, e := range entries {
		if i >= p.MaxItems || p.total >= p.MaxTotal {
			parts = append(parts, fmt.Sprintf("…(%d more)", len(entries)-i))
			break
		}
		p.total++
		val := p.render(e.val, indent+2, stack)
		s := val
		if !e.seq {
			s = p.key(e.key) + " = " + val
		}
		if strings.Contains(s, "\n") {
			multiline = true
		}
		parts = append(parts, s)
	}
	if !multiline {
		one := "{" + strings.Join(parts, ", ") + "}"
		if indent+len(one) <= p.Width {
			return one
		}
	}
	pad := strings.Repeat(" ", indent+2)
	var b strings.Builder
	b.WriteString("{\n")
	for _, s := range parts {
		b.WriteString(pad)
		b.WriteString(s)
		if !strings.HasPrefix(s, "…(") {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(strings.Repeat(" ", indent))
	b.WriteByte('}')
	return b.String()
}

func isEmpty(t *lua.LTable) bool {
	k, _ := t.Next(lua.LNil)
	return k == lua.LNil
}

// key renders a table key: a name as is, anything else in brackets.
func (p *printer) key(k lua.LValue) string {
	switch k := k.(type) {
	case lua.LString:
		if isIdent(string(k)) {
			return string(k)
		}
		return "[" + quote(string(k)) + "]"
	case lua.LNumber:
		return "[" + number(k) + "]"
	case *lua.LUserData:
		if e, ok := k.Value.(*lualib.Errno); ok {
			return "[" + errnoString(e) + "]"
		}
	}
	return "[" + p.tostring(k) + "]"
}

// sortedEntries lists t's pairs: the sequence 1..n first, then numbers,
// strings, booleans and other keys, each group in order (others by their
// tostring).
func sortedEntries(t *lua.LTable) []entry {
	var es []entry
	t.ForEach(func(k, v lua.LValue) { es = append(es, entry{key: k, val: v}) })
	rank := func(k lua.LValue) int {
		switch k.(type) {
		case lua.LNumber:
			return 0
		case lua.LString:
			return 1
		case lua.LBool:
			return 2
		}
		return 3
	}
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].key, es[j].key
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		switch a := a.(type) {
		case lua.LNumber:
			return a < b.(lua.LNumber)
		case lua.LString:
			return a < b.(lua.LString)
		case lua.LBool:
			return !bool(a) && bool(b.(lua.LBool))
		}
		return a.String() < b.String()
	})
	for i := range es {
		n, ok := es[i].key.(lua.LNumber)
		if !ok || float64(n) != float64(i+1) {
			break
		}
		es[i].seq = true
	}
	return es
}

// luaKeywords are Lua 5.1's reserved words.
var luaKeywords = []string{
	"and", "break", "do", "else", "elseif", "end", "false", "for", "function",
	"if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
	"true", "until", "while",
}

func isKeyword(s string) bool {
	for _, k := range luaKeywords {
		if k == s {
			return true
		}
	}
	return false
}

// isIdent reports whether s is a Lua name (and not a keyword).
func isIdent(s string) bool {
	if s == "" || isKeyword(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// quote renders s as a Lua 5.1 string literal: printable UTF-8 as is,
// the usual escapes, other bytes as \ddd.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteByte(byte(r))
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == utf8.RuneError && size == 1, !unicode.IsPrint(r):
			// \ddd with three digits, so a following digit cannot join it.
			for j := i; j < i+size; j++ {
				fmt.Fprintf(&b, `\%03d`, s[j])
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
