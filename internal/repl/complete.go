package repl

import (
	"regexp"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/vow-sandbox/vow/sandbox/promise"
)

// complete returns the completions of the word that ends at byte offset
// pos of line, and the length in bytes of that word (the part each
// candidate replaces). Candidates are whole words, sorted. It reads the
// Lua state but never runs Lua code (no __index functions are called).
//
// Three contexts are completed:
//   - a REPL command (".pro" → ".promises") at the start of the line;
//   - a promise name inside the string arguments of unix.pledge and in
//     promises/execpromises strings (`unix.pledge("stdio rp` → "rpath");
//   - otherwise a global, a table field or a method (`unix.pl` →
//     "pledge", `err:na` → "name"), plus Lua keywords at the top level.
func complete(L *lua.LState, line string, pos int) (cands []string, length int) {
	if pos > len(line) {
		pos = len(line)
	}
	before := line[:pos]
	if strings.HasPrefix(before, ".") && !strings.ContainsAny(before, " \t") {
		return prefixed(commandNames(), before), len(before)
	}
	switch ctx, start := scan(before); ctx {
	case inString:
		return completePromise(before[:start], before[start+1:])
	case inComment:
		return nil, 0
	}
	return completeName(L, before)
}

// lexical contexts of the end of the typed text.
const (
	inCode = iota
	inString
	inComment // or a long string: nothing to complete
)

// scan tells in which context before ends, and for a quoted string where
// it starts.
func scan(before string) (ctx, start int) {
	var quote byte
	for i := 0; i < len(before); i++ {
		c := before[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '"' || c == '\'':
			quote, start = c, i
		case c == '-' && strings.HasPrefix(before[i:], "--"),
			c == '[' && (strings.HasPrefix(before[i:], "[[") || strings.HasPrefix(before[i:], "[=")):
			return inComment, 0
		}
	}
	if quote != 0 {
		return inString, start
	}
	return inCode, 0
}

// promiseArg matches the code before a string that holds promises: the
// first or second argument of unix.pledge, or a promises / execpromises
// field (unix.spawn's options).
var promiseArg = regexp.MustCompile(`(?:\bunix\s*\.\s*pledge\s*\(\s*(?:(?:nil|"[^"]*"|'[^']*')\s*,\s*)?|\b(?:exec)?promises\s*=\s*)$`)

// completePromise completes the promise name being typed in a string that
// holds promises; code is the text before the opening quote, inside what
// is typed after it.
func completePromise(code, inside string) ([]string, int) {
	if !promiseArg.MatchString(code) {
		return nil, 0
	}
	word := inside[strings.LastIndexAny(inside, " \t")+1:]
	typed := map[string]bool{}
	for _, w := range strings.Fields(inside[:len(inside)-len(word)]) {
		typed[strings.ToLower(w)] = true
	}
	var cands []string
	for _, n := range append(promise.Names(), "error") {
		if strings.HasPrefix(n, strings.ToLower(word)) && !typed[n] {
			cands = append(cands, n)
		}
	}
	return cands, len(word)
}

// namePath matches the expression being typed: names joined by . or :,
// the last one possibly empty or partial.
var namePath = regexp.MustCompile(`((?:[A-Za-z_][A-Za-z0-9_]*\s*[.:]\s*)*)([A-Za-z_][A-Za-z0-9_]*)?$`)

// pathSep separates the names of a path.
var pathSep = regexp.MustCompile(`\s*[.:]\s*`)

// completeName completes a global, a field or a method name.
func completeName(L *lua.LState, before string) ([]string, int) {
	m := namePath.FindStringSubmatchIndex(before)
	if m == nil {
		return nil, 0
	}
	// What precedes the path must not make it part of something else:
	// a number (1.5), a call result (f().x), an index (t[1].x) or a
	// string ("a".x).
	if m[0] > 0 {
		prev := before[m[0]-1]
		if strings.IndexByte(`.:)]}'"0123456789`, prev) >= 0 {
			return nil, 0
		}
	}
	path, word := before[m[2]:m[3]], ""
	if m[4] >= 0 {
		word = before[m[4]:m[5]]
	}
	var names []string
	if path == "" {
		names = append(fieldNames(L, L.G.Global), luaKeywords...)
	} else {
		v := lua.LValue(L.G.Global)
		parts := pathSep.Split(strings.TrimRight(path, " \t.:"), -1)
		for _, p := range parts {
			if v = field(L, v, p); v == lua.LNil {
				return nil, 0
			}
		}
		names = fieldNames(L, v)
	}
	return prefixed(names, word), len(word)
}

// field is v[name] without calling metamethods: a raw get, following
// __index tables (not functions) of the metatables.
func field(L *lua.LState, v lua.LValue, name string) lua.LValue {
	for hops := 0; hops < 16 && v != lua.LNil; hops++ {
		if t, ok := v.(*lua.LTable); ok {
			if f := t.RawGetString(name); f != lua.LNil {
				return f
			}
		}
		v = L.GetMetaField(v, "__index")
		if _, ok := v.(*lua.LTable); !ok {
			return lua.LNil
		}
	}
	return lua.LNil
}

// fieldNames lists the string keys of v that are names, including those
// reached through __index tables, as a Lua expression could use them.
func fieldNames(L *lua.LState, v lua.LValue) []string {
	var names []string
	for hops := 0; hops < 16 && v != lua.LNil; hops++ {
		if t, ok := v.(*lua.LTable); ok {
			t.ForEach(func(k, _ lua.LValue) {
				if s, ok := k.(lua.LString); ok && isIdent(string(s)) {
					names = append(names, string(s))
				}
			})
		}
		v = L.GetMetaField(v, "__index")
		if _, ok := v.(*lua.LTable); !ok {
			break
		}
	}
	return names
}

// prefixed returns the distinct names that start with prefix, sorted.
func prefixed(names []string, prefix string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// completer adapts complete to readline's AutoCompleter, which wants the
// part of each candidate after what is typed.
type completer struct{ L *lua.LState }

// Do implements readline.AutoCompleter.
func (c completer) Do(line []rune, pos int) ([][]rune, int) {
	before := string(line[:pos])
	cands, n := complete(c.L, before+string(line[pos:]), len(before))
	word := []rune(before[len(before)-n:])
	out := make([][]rune, 0, len(cands))
	for _, cand := range cands {
		out = append(out, []rune(cand)[len(word):])
	}
	return out, len(word)
}
