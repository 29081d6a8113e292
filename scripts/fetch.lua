#!/usr/bin/env vow
-- fetch.lua: an HTTP/1.0 client for a service on this machine that, once
-- connected, can do nothing but talk over that one connection.
--
--   vow scripts/fetch.lua PORT [PATH]
--
-- It connects to 127.0.0.1:PORT (addresses elsewhere are not its
-- business), then pledges "stdio": no second connection, no files, no
-- programs, whatever the server sends. The response body goes to stdout.
-- A redirect cannot be followed — that would need a new socket:
--
--   fetch: cannot follow the redirect to /elsewhere: socket() failed: Operation not permitted
--
-- Other failures (exit status 1):
--   fetch: cannot connect to 127.0.0.1:PORT: connect() failed: Connection refused
--   fetch: HTTP 404 Not Found
local unix = require "unix"

local port = tonumber(arg[1])
if not port or port < 1 or port > 65535 or port % 1 ~= 0 then
  io.stderr:write("usage: vow fetch.lua PORT [PATH]\n")
  os.exit(2)
end
local path = arg[2] or "/"
local LOOPBACK = 0x7f000001 -- 127.0.0.1

local fd = assert(unix.socket(unix.AF_INET, unix.SOCK_STREAM))
local ok, err = unix.connect(fd, LOOPBACK, port)
if not ok then
  io.stderr:write(string.format("fetch: cannot connect to 127.0.0.1:%d: %s\n", port, tostring(err)))
  os.exit(1)
end

-- The connection is open: from now on only stdio, and forbidden calls
-- fail with EPERM so that we can say what was refused.
assert(unix.pledge("stdio", nil, unix.PLEDGE_PENALTY_RETURN_EPERM))

local request = string.format("GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", path, port)
while #request > 0 do
  local n = assert(unix.send(fd, request))
  request = request:sub(n + 1)
end

local parts = {}
while true do
  local data = assert(unix.recv(fd, 65536))
  if data == "" then break end
  parts[#parts + 1] = data
end
assert(unix.close(fd))
local response = table.concat(parts)

local head, body = response:match("^(.-)\r\n\r\n(.*)$")
if not head then
  io.stderr:write("fetch: the server sent no complete HTTP header\n")
  os.exit(1)
end
local code, reason = head:match("^HTTP/%d%.%d (%d%d%d) ?([^\r\n]*)")
code = tonumber(code)
if not code then
  io.stderr:write("fetch: not an HTTP response\n")
  os.exit(1)
end
if code >= 300 and code < 400 then
  local location = head:match("\r\n[Ll]ocation: *([^\r\n]*)") or "?"
  -- Following it needs a new connection, which the pledge forbids.
  local fd2, serr = unix.socket(unix.AF_INET, unix.SOCK_STREAM)
  if not fd2 then
    io.stderr:write("fetch: cannot follow the redirect to ", location, ": ", tostring(serr), "\n")
    os.exit(1)
  end
  error("sandbox leak: socket() worked after pledge(\"stdio\")")
end
if code >= 400 then
  io.stderr:write(string.format("fetch: HTTP %d %s\n", code, reason))
  os.exit(1)
end
io.write(body)
