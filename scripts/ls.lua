#!/usr/bin/env vow
-- ls.lua: list a directory with the rest of the filesystem out of reach.
--
--   vow scripts/ls.lua DIR [PATH...]
--
-- It unveils DIR read-only, commits, and pledges "stdio rpath", then lists
-- DIR, or each PATH inside DIR: one line per entry, "d" for directories,
-- "l" for symbolic links (with their target), the size for files. A PATH
-- that leads out of DIR is refused by the kernel, and the status is 1:
--
--   ls: DIR/../etc: opendir() failed: Permission denied
local unix = require "unix"

local root = arg[1]
if not root then
  io.stderr:write("usage: vow ls.lua DIR [PATH...]\n")
  os.exit(2)
end

local ok, err = unix.unveil(root, "r")
if not ok then
  io.stderr:write("ls: ", root, ": ", tostring(err), "\n")
  os.exit(1)
end
assert(unix.unveil(nil, nil))
assert(unix.pledge("stdio rpath"))

local function list(dir)
  local d, derr = unix.opendir(dir)
  if not d then
    io.stderr:write("ls: ", dir, ": ", tostring(derr), "\n")
    return false
  end
  local names = {}
  for name in d do
    if name ~= "." and name ~= ".." then names[#names + 1] = name end
  end
  d:close()
  table.sort(names)
  for _, name in ipairs(names) do
    local path = dir .. "/" .. name
    local st = unix.stat(path, unix.AT_SYMLINK_NOFOLLOW)
    if not st then
      print(string.format("?  %10s  %s", "", name))
    elseif unix.S_ISLNK(st:mode()) then
      print(string.format("l  %10s  %s -> %s", "", name, unix.readlink(path) or "?"))
    elseif unix.S_ISDIR(st:mode()) then
      print(string.format("d  %10s  %s/", "", name))
    else
      print(string.format("-  %10d  %s", st:size(), name))
    end
  end
  return true
end

local status = 0
if #arg < 2 then
  if not list(root) then status = 1 end
else
  for i = 2, #arg do
    if #arg > 2 then print(arg[i] .. ":") end
    if not list(root .. "/" .. arg[i]) then status = 1 end
  end
end
os.exit(status)
