-- Behaviours checked by redbean's test/tool/net/lunix_test.lua
-- (lua-unix.md §6) that need neither fork nor pledge/unveil. Items that
-- need a sandbox belong to the sandbox hooks' tests.

local tmpdir = TMP .. "/lunix_test/" .. unix.getpid()

case("1: makedirs creates the nested temporary tree", function()
  eq(unix.makedirs(tmpdir), true)
end)

case("4: strsignal", function()
  eq(unix.strsignal(9), "SIGKILL")
  eq(unix.strsignal(unix.SIGKILL), "SIGKILL")
end)

case("5: gmtime (T3) is not provided", function()
  eq(unix.gmtime, nil)
end)

case("6-7: dup", function()
  local fd = assert(unix.dup(2))
  eq(unix.close(fd), true)
  local ten = 10
  if fd_is_open(ten) then ten = free_fd(60) end   -- the Go runtime may own fd 10
  eq(unix.dup(2, ten), ten)
  eq(unix.close(ten), true)
end)

case("17-24: files", function()
  local path = tmpdir .. "/foo"
  local fd = assert(unix.open(path, unix.bor(unix.O_RDWR, unix.O_CREAT, unix.O_TRUNC), octal("600")))
  eq(assert(unix.fstat(fd)):size(), 0)
  eq(unix.ftruncate(fd, 8192), true)
  eq(assert(unix.fstat(fd)):size(), 8192)
  truthy(unix.write(fd, "pankakes"), "write")
  eq(unix.lseek(fd, 4096), 4096)
  truthy(unix.write(fd, "poke"), "write at 4096")
  eq(unix.lseek(fd, 8192 - 4), 8192 - 4)
  truthy(unix.write(fd, "poke"), "write at the end")
  local st = assert(unix.fstat(fd))
  eq(st:size(), 8192)
  eq(st:blocks(), 16, "512-byte units, both pages allocated")
  eq(unix.band(st:mode(), octal("700")), octal("600"))
  eq(st:uid(), unix.getuid())
  eq(st:gid(), unix.getgid())
  eq(unix.write(fd, "bear", 4), 4)
  eq(unix.read(fd, 10, 0), "pankbear\0\0")
  assert(unix.close(fd))
  fd = assert(unix.open(path))
  eq(unix.lseek(fd, 4), 4)
  eq(unix.read(fd, 4), "bear")
  assert(unix.close(fd))
  fd = assert(unix.open(path, unix.O_RDWR))
  eq(unix.write(fd, "bear"), 4)
  eq(unix.read(fd, 8, 0), "bearbear")
  assert(unix.close(fd))
end)

case("22: positional read keeps NUL bytes of a sparse file", function()
  local path = tmpdir .. "/sparse"
  local fd = assert(unix.open(path, unix.bor(unix.O_RDWR, unix.O_CREAT, unix.O_TRUNC), octal("600")))
  assert(unix.ftruncate(fd, 8192))
  eq(unix.write(fd, "hell", 0), 4)
  eq(unix.write(fd, "bear", 4), 4)
  eq(unix.read(fd, 10, 0), "hellbear\0\0")
  assert(unix.close(fd))
end)

case("25: opendir yields . and .. and foo", function()
  local names = {}
  for name in assert(unix.opendir(tmpdir)) do
    if name ~= "sparse" then names[#names + 1] = name end
  end
  table.sort(names)
  eq(table.concat(names, ","), ".,..,foo")
end)

case("26: rmrf removes the tree", function()
  eq(unix.rmrf(TMP .. "/lunix_test"), true)
  fails("ENOENT", "stat", unix.stat(tmpdir))
end)
