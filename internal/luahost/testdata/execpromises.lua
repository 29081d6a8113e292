-- unix.execve after pledge(promises, execpromises): the new program runs
-- with execpromises. PROBE is this test binary in probe mode: it tries a
-- few calls and prints what happened.
local unix = require "unix"
-- A wider execpromises is refused up front.
local ok, err = unix.pledge("stdio exec", "stdio inet")
assert(ok == nil and err:name() == "EINVAL")
assert(err:doc():find("not a subset", 1, true), err:doc())
local ok2, err2 = unix.pledge("stdio exec", "stdoi")
assert(ok2 == nil and tostring(err2) == "pledge() failed: execpromises: unknown promise 'stdoi' (did you mean 'stdio'?)", tostring(err2))

assert(unix.pledge("stdio rpath wpath cpath exec prot_exec", "stdio rpath prot_exec", unix.PLEDGE_PENALTY_RETURN_EPERM))
-- Before the exec this process may still create files.
assert(unix.close(assert(unix.open(TMPDIR .. "/before", {unix.O_WRONLY, unix.O_CREAT}, "600"))))
local env = {PROBE_ENV, "PROBE_DIR=" .. TMPDIR}
local _, xerr = unix.execve(PROBE, {PROBE}, env)
error("execve failed: " .. tostring(xerr))
