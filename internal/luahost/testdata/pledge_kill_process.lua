-- PLEDGE_PENALTY_KILL_PROCESS (also as a table of flags) kills with SIGSYS.
local unix = require "unix"
assert(unix.pledge("stdio rpath", nil, {unix.PLEDGE_PENALTY_KILL_PROCESS}))
assert(io.open("/etc/passwd")):close()
io.write("rpath works\n")
unix.open(TMPDIR .. "/x", unix.bor(unix.O_WRONLY, unix.O_CREAT))
io.write("not reached\n")
