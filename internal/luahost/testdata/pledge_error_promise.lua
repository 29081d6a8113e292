-- The "error" promise turns every violation into EPERM, whatever the mode.
local unix = require "unix"
assert(unix.pledge("stdio error"))
local fd, err = unix.socket()
assert(fd == nil and err:name() == "EPERM")
print("ok")
