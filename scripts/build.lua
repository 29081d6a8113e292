#!/usr/bin/env vow
-- build.lua: a build step that can read only its sources and write only
-- into its output directory.
--
--   vow scripts/build.lua SRC OUT
--
-- Every SRC/NAME.txt becomes OUT/NAME.html (the first line is the title,
-- each further paragraph a <p>), and OUT/index.html links them. A line
-- "@include FILE" inserts SRC/FILE. After creating OUT the script unveils
-- SRC read-only and OUT read-write-create, commits, and pledges
-- "stdio rpath wpath cpath": an include that leads outside SRC, or any
-- write outside OUT, is refused by the kernel (EACCES):
--
--   build: SRC/page.txt:3: cannot include ../secret.txt: open() failed: Permission denied
local unix = require "unix"

local src, out = arg[1], arg[2]
if not src or not out then
  io.stderr:write("usage: vow build.lua SRC OUT\n")
  os.exit(2)
end

local function die(...)
  io.stderr:write("build: ", ...)
  io.stderr:write("\n")
  os.exit(1)
end

local ok, err = unix.makedirs(out, tonumber("755", 8))
if not ok and err:errno() ~= unix.EEXIST then
  die("cannot create ", out, ": ", tostring(err))
end

assert(unix.unveil(src, "r"))
assert(unix.unveil(out, "rwc"))
assert(unix.unveil(nil, nil))
assert(unix.pledge("stdio rpath wpath cpath", nil, unix.PLEDGE_PENALTY_RETURN_EPERM))

local function slurp(path)
  local fd, err = unix.open(path)
  if not fd then return nil, err end
  local parts = {}
  while true do
    local data, rerr = unix.read(fd, 65536)
    if not data then unix.close(fd) return nil, rerr end
    if data == "" then break end
    parts[#parts + 1] = data
  end
  unix.close(fd)
  return table.concat(parts)
end

local function spit(path, text)
  local fd, err = unix.open(path, {unix.O_WRONLY, unix.O_CREAT, unix.O_TRUNC}, "0644")
  if not fd then return nil, err end
  while #text > 0 do
    local n, werr = unix.write(fd, text)
    if not n then unix.close(fd) return nil, werr end
    text = text:sub(n + 1)
  end
  return unix.close(fd)
end

local function escape(s)
  return (s:gsub("[&<>\"]", {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;"}))
end

local names = {}
local dir = unix.opendir(src) or die("cannot list ", src)
for name in dir do
  if name:match("%.txt$") then names[#names + 1] = name:sub(1, -5) end
end
dir:close()
table.sort(names)

local index = {"<h1>Index</h1>", "<ul>"}
for _, name in ipairs(names) do
  local file = src .. "/" .. name .. ".txt"
  local text, rerr = slurp(file)
  if not text then die("cannot read ", file, ": ", tostring(rerr)) end
  local lines, n = {}, 0
  for line in (text .. "\n"):gmatch("(.-)\n") do
    n = n + 1
    local inc = line:match("^@include%s+(.-)%s*$")
    if inc then
      local body, ierr = slurp(src .. "/" .. inc)
      if not body then
        die(file, ":", n, ": cannot include ", inc, ": ", tostring(ierr))
      end
      for l in (body .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
    else
      lines[#lines + 1] = line
    end
  end
  local title = table.remove(lines, 1) or name
  local html = {"<h1>" .. escape(title) .. "</h1>"}
  local para = {}
  local function flush()
    if #para > 0 then html[#html + 1] = "<p>" .. escape(table.concat(para, " ")) .. "</p>" end
    para = {}
  end
  for _, l in ipairs(lines) do
    if l:match("^%s*$") then flush() else para[#para + 1] = l end
  end
  flush()
  local target = out .. "/" .. name .. ".html"
  local wok, werr = spit(target, table.concat(html, "\n") .. "\n")
  if not wok then die("cannot write ", target, ": ", tostring(werr)) end
  print("wrote " .. target)
  index[#index + 1] = string.format('<li><a href="%s.html">%s</a></li>', name, escape(title))
end
index[#index + 1] = "</ul>"
local target = out .. "/index.html"
local wok, werr = spit(target, table.concat(index, "\n") .. "\n")
if not wok then die("cannot write ", target, ": ", tostring(werr)) end
print("wrote " .. target)
