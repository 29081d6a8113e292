#!/usr/bin/env vow
-- view.lua: a pledged file viewer. It opens the file, then gives up
-- everything but stdio, so whatever the file contains, showing it can do
-- nothing else: no other file, no network, no programs.
--
--   vow scripts/view.lua FILE
--
-- Prints the file with line numbers. Exit status 1 if FILE cannot be
-- opened:
--   view: cannot open FILE: open() failed: No such file or directory
local unix = require "unix"

local path = arg[1]
if not path then
  io.stderr:write("usage: vow view.lua FILE\n")
  os.exit(2)
end

local fd, err = unix.open(path)
if not fd then
  io.stderr:write("view: cannot open ", path, ": ", tostring(err), "\n")
  os.exit(1)
end

-- From here on only stdio: a violation kills the viewer (the default
-- penalty), and vow says so on stderr.
assert(unix.pledge("stdio"))

local chunks = {}
while true do
  local data = assert(unix.read(fd, 65536))
  if data == "" then break end
  chunks[#chunks + 1] = data
end
assert(unix.close(fd))

local text = table.concat(chunks)
local n = 0
for line in (text .. (text:sub(-1) == "\n" and "" or "\n")):gmatch("(.-)\n") do
  if text == "" then break end
  n = n + 1
  io.write(string.format("%6d  %s\n", n, line))
end
