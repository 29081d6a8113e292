-- The default mode kills the whole process with SIGSYS.
local unix = require "unix"
assert(unix.pledge("stdio"))
io.write("pledged\n")
unix.socket()
io.write("not reached\n")
