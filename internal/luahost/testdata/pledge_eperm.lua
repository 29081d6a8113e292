-- After pledge("stdio", nil, RETURN_EPERM) the interpreter keeps running
-- and every forbidden call comes back as nil, EPERM.
local unix = require "unix"
assert(unix == _G.unix, "require and the global give the same table")

local ok, abi0 = unix.unveil("", nil)
assert(ok == true and abi0 == LANDLOCK_ABI, "unveil probe before pledging: " .. tostring(abi0))

assert(unix.pledge() == true, "probe")
assert(select("#", unix.pledge("stdio", nil, unix.PLEDGE_PENALTY_RETURN_EPERM)) == 1)

-- io.open fails the Lua way: nil and a message.
local f, msg = io.open("/etc/passwd")
assert(f == nil and type(msg) == "string", "io.open after pledge(stdio) must fail")
assert(msg:find("operation not permitted", 1, true), msg)

-- unix.socket: nil, Errno(EPERM).
local n = select("#", unix.socket())
assert(n == 2, "failure is exactly two values, got " .. n)
local fd, err = unix.socket()
assert(fd == nil)
assert(err:errno() == unix.EPERM and err:errno() == 1)
assert(err:name() == "EPERM")
assert(err:doc() == "Operation not permitted", err:doc())
assert(err:call() == "socket")
assert(tostring(err) == "socket() failed: Operation not permitted", tostring(err))

-- Other promises' calls fail the same way.
local ofd, oerr = unix.open("/etc/passwd")
assert(ofd == nil and oerr:name() == "EPERM" and oerr:call() == "open")
local mok, merr = unix.mkdir(TMPDIR .. "/new")
assert(mok == nil and merr:name() == "EPERM")

-- stdio still works: pipes, descriptors, time, memory.
local r, w = assert(unix.pipe())
assert(unix.write(w, "still talking"))
assert(unix.read(r) == "still talking")
assert(unix.close(r) and unix.close(w))
assert(unix.clock_gettime())
local t = {}
for i = 1, 100000 do t[i] = tostring(i) end
assert(#t == 100000 and t[100000] == "100000")
collectgarbage()

-- The probes keep answering without a new system call.
assert(unix.pledge(nil, nil) == true)
local ok2, abi = unix.unveil("", nil)
assert(ok2 == true and abi == LANDLOCK_ABI)

-- unveil needs the unveil promise once pledged.
local uok, uerr = unix.unveil(TMPDIR, "r")
assert(uok == nil and uerr:name() == "EPERM", tostring(uerr))
assert(uerr:doc():find("unveil", 1, true), uerr:doc())

-- A second pledge can only narrow: asking for rpath grants nothing.
assert(unix.pledge("stdio rpath", nil, unix.PLEDGE_PENALTY_RETURN_EPERM))
local fd2, err2 = unix.open("/etc/passwd")
assert(fd2 == nil and err2:name() == "EPERM", "rpath must not come back")

-- Mistakes are still EINVAL with a useful doc, and change nothing.
local bok, berr = unix.pledge("stdoi")
assert(bok == nil and berr:name() == "EINVAL")
assert(tostring(berr) == "pledge() failed: unknown promise 'stdoi' (did you mean 'stdio'?)", tostring(berr))
print("ok")
