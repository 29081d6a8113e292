package lualib

import (
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The sandbox entry points. Each exists in the table only when its hook
// in Options is set; these bindings only check arguments and translate
// results (lua-unix.md §4, interfaces.md §2).

func (m *module) pledge(a args) int {
	var promises, execpromises *string
	if s, ok := a.optStr(1); ok {
		promises = &s
	}
	if s, ok := a.optStr(2); ok {
		execpromises = &s
	}
	mode := int(a.flags32(3, m.opts.DefaultPledgeMode))
	return a.result(m.opts.Pledge(promises, execpromises, mode))
}

func (m *module) unveil(a args) int {
	var path, perms *string
	if s, ok := a.optStr(1); ok {
		path = &s
	}
	if s, ok := a.optStr(2); ok {
		perms = &s
	}
	abi, err := m.opts.Unveil(path, perms)
	if err != nil {
		return a.fail(err)
	}
	a.L.Push(lua.LTrue)
	if path != nil && *path == "" && perms == nil {
		a.L.Push(lua.LNumber(abi))
		return 2
	}
	return 1
}

// spawnRlimits are the names opts.rlimits accepts.
var spawnRlimits = map[string]bool{"cpu": true, "as": true, "nofile": true, "nproc": true, "fsize": true}

func (m *module) spawn(a args) int {
	req := &SpawnRequest{Prog: a.str(1), Stdin: 0, Stdout: 1, Stderr: 2}
	req.Argv = a.strList(2)
	if !a.isNone(3) {
		opts, ok := a.L.Get(3).(*lua.LTable)
		if !ok {
			a.typeError(3, "table")
		}
		a.spawnOptions(opts, req)
	}
	pid, err := m.opts.Spawn(req)
	return a.intResult(pid, err)
}

// spawnOptions checks opts (argument 3) into req; an unknown key or a
// value of the wrong type is a mistake in the script and raises.
func (a args) spawnOptions(opts *lua.LTable, req *SpawnRequest) {
	bad := func(key, want string, v lua.LValue) {
		a.argError(3, "opts."+key+": "+want+" expected, got "+v.Type().String())
	}
	str := func(key string, v lua.LValue) string {
		switch s := v.(type) {
		case lua.LString:
			return string(s)
		case lua.LNumber:
			return s.String()
		}
		bad(key, "string", v)
		return ""
	}
	integer := func(key string, v lua.LValue) int64 {
		i, reason, ok := lvInt(v)
		if !ok {
			if reason != "" {
				a.argError(3, "opts."+key+": "+reason)
			}
			bad(key, "number", v)
		}
		return i
	}
	strs := func(key string, v lua.LValue) []string {
		t, ok := v.(*lua.LTable)
		if !ok {
			bad(key, "table", v)
		}
		out := []string{}
		for i := 1; i <= t.Len(); i++ {
			out = append(out, str(key+"["+itoa(i)+"]", t.RawGetInt(i)))
		}
		return out
	}
	var keys []string
	opts.ForEach(func(k, _ lua.LValue) {
		ks, ok := k.(lua.LString)
		if !ok {
			a.argError(3, "opts keys must be strings")
		}
		keys = append(keys, string(ks))
	})
	sort.Strings(keys)
	for _, key := range keys {
		v := opts.RawGetString(key)
		switch key {
		case "env":
			req.Env = strs(key, v)
		case "dir":
			req.Dir = str(key, v)
		case "stdin":
			req.Stdin = int(integer(key, v))
		case "stdout":
			req.Stdout = int(integer(key, v))
		case "stderr":
			req.Stderr = int(integer(key, v))
		case "promises":
			s := str(key, v)
			req.Promises = &s
		case "execpromises":
			s := str(key, v)
			req.ExecPromises = &s
		case "penalty":
			var p int64
			if t, ok := v.(*lua.LTable); ok {
				p = a.flagTable(3, t)
			} else {
				p = integer(key, v)
			}
			pi := int(p)
			req.Penalty = &pi
		case "unveil":
			t, ok := v.(*lua.LTable)
			if !ok {
				bad(key, "table", v)
			}
			for i := 1; i <= t.Len(); i++ {
				rule := strs("unveil["+itoa(i)+"]", t.RawGetInt(i))
				if len(rule) != 2 {
					a.argError(3, "opts.unveil["+itoa(i)+"]: {path, perms} expected")
				}
				req.Unveil = append(req.Unveil, UnveilRule{Path: rule[0], Perms: rule[1]})
			}
		case "rlimits":
			t, ok := v.(*lua.LTable)
			if !ok {
				bad(key, "table", v)
			}
			req.Rlimits = map[string]int64{}
			t.ForEach(func(k, lv lua.LValue) {
				name := strings.ToLower(lua.LVAsString(k))
				if !spawnRlimits[name] {
					a.argError(3, "opts.rlimits: unknown limit '"+lua.LVAsString(k)+"' (cpu, as, nofile, nproc or fsize)")
				}
				req.Rlimits[name] = integer("rlimits."+name, lv)
			})
		default:
			a.argError(3, "unknown option '"+key+"' (env, dir, stdin, stdout, stderr, promises, execpromises, unveil, penalty, rlimits)")
		}
	}
}
