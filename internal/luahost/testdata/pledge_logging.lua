-- PLEDGE_STDERR_LOGGING is accepted; in-process the kernel's audit log
-- gets the violations, and the penalty still applies.
local unix = require "unix"
assert(unix.pledge("stdio", nil, unix.bor(unix.PLEDGE_PENALTY_RETURN_EPERM, unix.PLEDGE_STDERR_LOGGING)))
local fd, err = unix.socket()
assert(fd == nil and err:name() == "EPERM")
print("ok")
