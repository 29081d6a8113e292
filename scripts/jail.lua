#!/usr/bin/env vow
-- jail.lua: run a program that can see only one directory, read-only, and
-- has no network, without restricting vow itself.
--
--   vow scripts/jail.lua DIR PROGRAM [ARGS...]
--
-- The program is found in $PATH (unix.commandv) and started with
-- unix.spawn: the child unveils DIR with "r" (plus what loading the
-- program needs) and pledges "stdio rpath", then execs PROGRAM. Anything
-- else fails inside the program (EACCES outside DIR, EPERM for writes and
-- sockets). jail.lua reports how the program ended and exits with its
-- status.
local unix = require "unix"

local dir, prog = arg[1], arg[2]
if not dir or not prog then
  io.stderr:write("usage: vow jail.lua DIR PROGRAM [ARGS...]\n")
  os.exit(2)
end

local path, err = unix.commandv(prog)
if not path then
  io.stderr:write("jail: ", prog, ": ", tostring(err), "\n")
  os.exit(127)
end

local argv = {prog}
for i = 3, #arg do argv[#argv + 1] = arg[i] end

io.stdout:flush()
local pid, serr = unix.spawn(path, argv, {
  promises = "stdio rpath",
  unveil = {{dir, "r"}},
})
if not pid then
  io.stderr:write("jail: ", prog, ": ", tostring(serr), "\n")
  os.exit(1)
end

local _, ws = assert(unix.wait(pid))
if unix.WIFEXITED(ws) then
  local status = unix.WEXITSTATUS(ws)
  print(("jail: %s exited with status %d"):format(prog, status))
  os.exit(status)
end
print(("jail: %s was killed by signal %d"):format(prog, unix.WTERMSIG(ws)))
os.exit(128 + unix.WTERMSIG(ws))
