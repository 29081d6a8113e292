package lualib

import lua "github.com/yuin/gopher-lua"

// moduleRegistryKey is the registry field that holds the unix module most
// recently built in a state, for [Flush].
const moduleRegistryKey = "vow.unix.module"

// Flush writes out what the script has written but the io library still
// buffers: io.stdout, io.stderr, the default output file and every file
// switched to buffered output with file:setvbuf. unix.exit does the same
// before it ends the process (lua-unix.md §1.8); a host calls Flush when a
// script ends normally, since gopher-lua flushes nothing by itself. Errors
// are ignored. Without a unix module in L it flushes nothing.
func Flush(L *lua.LState) {
	ud, ok := L.GetField(L.Get(lua.RegistryIndex), moduleRegistryKey).(*lua.LUserData)
	if !ok {
		return
	}
	if m, ok := ud.Value.(*module); ok {
		m.flushIO(L)
	}
}
