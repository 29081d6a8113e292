#!/usr/bin/env vow
-- no-network.lua: after pledge("stdio") the process cannot open sockets.
--
--   vow scripts/no-network.lua          forbidden calls fail with EPERM
--   vow scripts/no-network.lua --kill   the default penalty: the first
--                                       forbidden call kills the script
--
-- Expected output (first form):
--   pledge support: yes
--   EPERM	1
--   socket() failed: Operation not permitted
--   still talking
local unix = require "unix"

-- Fail loudly if the kernel cannot enforce anything.
assert(unix.pledge(nil, nil))
print("pledge support: yes")

if arg[1] == "--kill" then
  -- redbean's default mode: a violation kills the process (vow reports
  -- it on stderr and exits with the signal, SIGSYS).
  assert(unix.pledge("stdio"))
  unix.socket()
  print("not reached")
  return
end

-- Gentle mode: forbidden calls fail with EPERM instead of killing us.
assert(unix.pledge("stdio", nil, unix.PLEDGE_PENALTY_RETURN_EPERM))

local fd, err = unix.socket(unix.AF_INET, unix.SOCK_STREAM)
if fd then
  error("sandbox leak: socket() returned " .. fd)
end
print(err:name(), err:errno())
print(tostring(err))

-- Still allowed under stdio: pipes, reading and writing open descriptors.
local r, w = assert(unix.pipe())
assert(unix.write(w, "still talking\n"))
io.write(assert(unix.read(r)))
