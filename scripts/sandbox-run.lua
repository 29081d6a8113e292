#!/usr/bin/env vow
-- sandbox-run.lua: run an untrusted Lua file with nothing but stdio.
--
--   vow scripts/sandbox-run.lua [--kill] UNTRUSTED.lua [ARGS...]
--
-- The file is read and compiled first; then the whole filesystem is hidden
-- (unveil with nothing unveiled) and the process pledges "stdio". The
-- untrusted code can compute and print, and read and write the descriptors
-- it was given, but any other system call fails with EPERM — io.open
-- returns nil and a message, unix.socket returns nil, EPERM. With --kill
-- the first forbidden call kills the process instead, and vow reports it:
--
--   vow: scripts/sandbox-run.lua killed by the pledge: openat (ord=101) needs one of the promises 'rpath', 'dns' (SIGSYS)
--
-- An error in the untrusted code ends with status 1:
--   sandbox-run: UNTRUSTED.lua failed: MESSAGE
local unix = require "unix"

local mode = unix.PLEDGE_PENALTY_RETURN_EPERM
local i = 1
if arg[i] == "--kill" then
  mode = unix.PLEDGE_PENALTY_KILL_PROCESS
  i = i + 1
end
local path = arg[i]
if not path then
  io.stderr:write("usage: vow sandbox-run.lua [--kill] UNTRUSTED.lua [ARGS...]\n")
  os.exit(2)
end
local args = {}
for j = i + 1, #arg do args[#args + 1] = arg[j] end

local f, err = io.open(path)
if not f then
  io.stderr:write("sandbox-run: ", err, "\n")
  os.exit(2)
end
local src = f:read("*a")
f:close()
local chunk, cerr = loadstring(src, path)
if not chunk then
  io.stderr:write("sandbox-run: ", cerr, "\n")
  os.exit(2)
end

-- Nothing unveiled, then commit: no file can be opened any more.
assert(unix.unveil(nil, nil))
-- Only stdio from here on.
assert(unix.pledge("stdio", nil, mode))

local ok, res = pcall(chunk, unpack(args))
if not ok then
  io.stderr:write("sandbox-run: ", path, " failed: ", tostring(res), "\n")
  os.exit(1)
end
