-- Mistakes in the calling code raise Lua errors in the standard form
-- (lua-unix.md §1.2, §1.4).

case("wrong type names function and argument", function()
  raises("bad argument #1 to 'open' (string expected, got table)", unix.open, {})
  raises("bad argument #1 to 'close' (number expected, got string)", unix.close, "x")
  raises("bad argument #1 to 'close' (number expected, got no value)", unix.close)
  raises("bad argument #2 to 'write' (string expected, got nil)", unix.write, 1, nil)
  raises("bad argument #1 to 'stat' (string expected, got boolean)", unix.stat, true)
  raises("bad argument #2 to 'kill' (number expected, got no value)", unix.kill, 1)
end)

case("position prefix is the caller's line", function()
  local msg = raises("bad argument", function() unix.open({}) end)
  truthy(msg:find("^args.lua:%d+: bad argument #1 to 'open'"), "prefix in " .. msg)
end)

case("name follows the function, not the call site", function()
  local f = unix.open
  raises("to 'open'", f, {})
end)

case("non-integral numbers", function()
  raises("bad argument #1 to 'close' (number has no integer representation)", unix.close, 1.5)
  raises("bad argument #2 to 'read' (number has no integer representation)", unix.read, 0, 0.25)
  raises("number has no integer representation", unix.close, 0/0)
  raises("number has no integer representation", unix.close, 1/0)
end)

case("numbers out of the kernel type's range", function()
  raises("bad argument #1 to 'close' (number out of range)", unix.close, 2^31)
  raises("bad argument #1 to 'close' (number out of range)", unix.close, -2^31 - 1)
  raises("number has no integer representation", unix.close, 2^63)
end)

case("strings that convert to integers are accepted", function()
  local r, w = assert(unix.pipe())
  eq(unix.write(tostring(w), "abc"), 3)
  eq(unix.read(r, "2"), "ab")
  eq(unix.read(r, " 0x10 "), "c")
  assert(unix.close(r)); assert(unix.close(w))
  raises("bad argument #1 to 'close' (number expected, got string)", unix.close, "12abc")
  raises("number has no integer representation", unix.close, "1.5")
end)

case("numbers are accepted as strings", function()
  fails("ENOENT", "stat", unix.stat(12345))
end)

case("nil means absent for optional arguments", function()
  local p = TMP .. "/nil-args"
  local fd = assert(unix.open(p, unix.bor(unix.O_WRONLY, unix.O_CREAT), nil, nil))
  assert(unix.close(fd))
  fd = assert(unix.open(p, nil, nil, unix.AT_FDCWD))
  assert(unix.close(fd))
  assert(unix.stat(p, nil, nil))
end)

case("invalid octal mode strings", function()
  raises("bad argument #3 to 'open' (invalid octal mode)", unix.open, TMP .. "/m", unix.O_CREAT, "0x1ff")
  raises("bad argument #2 to 'mkdir' (invalid octal mode)", unix.mkdir, TMP .. "/m", "789")
  raises("bad argument #2 to 'mkdir' (invalid octal mode)", unix.mkdir, TMP .. "/m", "")
  raises("bad argument #2 to 'chmod' (invalid octal mode)", unix.chmod, TMP, "-755")
  raises("bad argument #1 to 'umask' (invalid octal mode)", unix.umask, "rwx")
end)

case("flag tables must hold integers", function()
  raises("bad argument #2 to 'open' (table of integers expected, got string at index 2)",
    unix.open, "/x", {unix.O_RDONLY, "no"})
end)

case("list arguments of execve", function()
  raises("bad argument #2 to 'execve' (table of strings expected, got table at index 2)",
    unix.execve, "/nonexistent", {"a", {}})
  raises("bad argument #3 to 'execve' (table expected, got string)", unix.execve, "/nonexistent", {"a"}, "x")
end)

case("unix path too long", function()
  local fd = assert(unix.socket(unix.AF_UNIX, unix.SOCK_STREAM))
  raises("unix path too long", unix.connect, fd, string.rep("a", 108))
  raises("unix path too long", unix.bind, fd, string.rep("a", 108))
  assert(unix.close(fd))
end)

case("Dir methods on a closed Dir raise", function()
  local d = assert(unix.opendir(TMP))
  eq(d:close(), true)
  eq(d:close(), true, "closing again")
  raises("unix.Dir is closed", d.read, d)
  raises("unix.Dir is closed", d.fd, d)
  raises("unix.Dir is closed", d.tell, d)
  raises("unix.Dir is closed", d.rewind, d)
  raises("unix.Dir is closed", function() return d() end)
end)

case("object methods check their receiver", function()
  local st = assert(unix.stat(TMP))
  raises("bad argument #1 to 'size' (unix.Stat expected, got table)", st.size, {})
  local d = assert(unix.opendir(TMP))
  raises("unix.Dir expected", d.read, st)
  d:close()
end)
