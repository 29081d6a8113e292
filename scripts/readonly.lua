#!/usr/bin/env vow
-- readonly.lua: run a program that may read files but not write, create,
-- delete or connect anything.
--
--   vow scripts/readonly.lua PROG [ARGS...]
--
-- It pledges "stdio rpath tty exec prot_exec" for itself and, as
-- execpromises, "stdio rpath tty prot_exec" for PROG, then replaces itself
-- with PROG (unix.execve): PROG runs with the execpromises (prot_exec lets
-- the dynamic loader map libraries). A forbidden call fails with EPERM in
-- PROG, for example
--
--   vow scripts/readonly.lua touch x   →   touch: cannot touch 'x': Operation not permitted
--
-- A bad pair of promises is refused before anything happens: execpromises
-- must be a subset of the promises.
local unix = require "unix"

if not arg[1] then
  io.stderr:write("usage: vow readonly.lua PROG [ARGS...]\n")
  os.exit(2)
end
local prog, err = unix.commandv(arg[1])
if not prog then
  io.stderr:write("readonly: ", arg[1], ": ", tostring(err), "\n")
  os.exit(127)
end

-- execpromises can only narrow: this pair is refused with EINVAL.
local ok, perr = unix.pledge("stdio exec", "stdio inet")
assert(not ok and perr:errno() == unix.EINVAL, "a wider execpromises must be refused")

assert(unix.pledge("stdio rpath tty exec prot_exec", -- this script, until the exec
                   "stdio rpath tty prot_exec",      -- PROG, after it
                   unix.PLEDGE_PENALTY_RETURN_EPERM))
local argv = {arg[1]}
for i = 2, #arg do argv[#argv + 1] = arg[i] end
local _, xerr = unix.execve(prog, argv)
-- Only reached when execve failed.
io.stderr:write("readonly: cannot run ", prog, ": ", tostring(xerr), "\n")
os.exit(126)
