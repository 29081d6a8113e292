#!/usr/bin/env vow
-- logfilter.lua: print the lines of standard input that match a Lua
-- pattern, with nothing but stdio.
--
--   vow scripts/logfilter.lua [-v] [-c] PATTERN < LOG
--
--   -v  print the lines that do not match
--   -c  print only the number of (non-)matching lines
--
-- The first thing it does is pledge("stdio"): a filter reading untrusted
-- input needs to read stdin and write stdout, nothing else, and with the
-- default penalty any other system call would kill it. A summary goes to
-- stderr ("logfilter: 2 of 5 lines"). A bad pattern is a usage error
-- (status 2): logfilter: bad pattern "[": WHAT IS WRONG
local unix = require "unix"

assert(unix.pledge("stdio"))

local invert, count = false, false
local i = 1
while arg[i] and arg[i]:sub(1, 1) == "-" and #arg[i] > 1 do
  if arg[i] == "-v" then invert = true
  elseif arg[i] == "-c" then count = true
  else
    io.stderr:write("logfilter: unknown option ", arg[i], "\nusage: vow logfilter.lua [-v] [-c] PATTERN < LOG\n")
    os.exit(2)
  end
  i = i + 1
end
local pattern = arg[i]
if not pattern then
  io.stderr:write("usage: vow logfilter.lua [-v] [-c] PATTERN < LOG\n")
  os.exit(2)
end
local ok, perr = pcall(string.find, "", pattern)
if not ok then
  io.stderr:write(string.format("logfilter: bad pattern %q: %s\n", pattern, (tostring(perr):gsub("^.-:%d+: ", ""))))
  os.exit(2)
end

local seen, matched = 0, 0
for line in io.lines() do
  seen = seen + 1
  if (line:find(pattern) ~= nil) ~= invert then
    matched = matched + 1
    if not count then io.write(line, "\n") end
  end
end
if count then print(matched) end
io.stderr:write(string.format("logfilter: %d of %d lines\n", matched, seen))
