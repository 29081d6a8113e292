-- lua-unix.md §5.2: unveil one directory, then read inside and outside.
local unix = require "unix"
local jail = TMPDIR .. "/jail"
assert(unix.makedirs(jail .. "/sub", "755"))
local fd = assert(unix.open(jail .. "/note.txt", {unix.O_WRONLY, unix.O_CREAT, unix.O_TRUNC}, "644"))
assert(unix.write(fd, "hello from inside\n"))
assert(unix.close(fd))
local out = TMPDIR .. "/outside.txt"
fd = assert(unix.open(out, {unix.O_WRONLY, unix.O_CREAT}, "644"))
assert(unix.close(fd))

local ok, abi = unix.unveil("", nil)
assert(ok == true and abi == LANDLOCK_ABI and abi > 0)
assert(select("#", unix.unveil(jail, "r")) == 1)
assert(select("#", unix.unveil(nil, nil)) == 1)

-- inside: reading and listing work
fd = assert(unix.open(jail .. "/note.txt"))
assert(unix.read(fd) == "hello from inside\n")
assert(unix.close(fd))
local names = {}
for name in assert(unix.opendir(jail)) do names[#names + 1] = name end
table.sort(names)
assert(table.concat(names, " ") == ". .. note.txt sub", table.concat(names, " "))

-- inside without "w": writing is refused with EACCES
local wfd, werr = unix.open(jail .. "/note.txt", unix.O_WRONLY)
assert(wfd == nil and werr:errno() == unix.EACCES and werr:call() == "open")
-- without "c": creating and removing too
local cfd, cerr = unix.open(jail .. "/new", {unix.O_WRONLY, unix.O_CREAT})
assert(cfd == nil and cerr:name() == "EACCES")
local rok, rerr = unix.unlink(jail .. "/note.txt")
assert(rok == nil and rerr:name() == "EACCES", tostring(rerr))

-- outside: EACCES, and the io library fails as well
local ofd, oerr = unix.open("/etc/passwd")
assert(ofd == nil and oerr:errno() == unix.EACCES)
assert(tostring(oerr) == "open() failed: Permission denied")
assert(io.open(out) == nil)

-- metadata is not hidden on Linux
local st = assert(unix.stat("/etc/passwd"))
assert(unix.S_ISREG(st:mode()))

-- a second round narrows: only sub stays readable
assert(unix.unveil(jail .. "/sub", "r"))
assert(unix.unveil())
local d, derr = unix.opendir(jail)
assert(d == nil and derr:name() == "EACCES")
assert(unix.opendir(jail .. "/sub")):close()

-- argument mistakes
local e1, err1 = unix.unveil(jail, nil)
assert(e1 == nil and err1:name() == "EINVAL")
local e2, err2 = unix.unveil(nil, "r")
assert(e2 == nil and err2:name() == "EINVAL")
local e3, err3 = unix.unveil("", "r")
assert(e3 == nil and err3:name() == "EINVAL")
local e4, err4 = unix.unveil(jail, "rz")
assert(e4 == nil and err4:name() == "EINVAL" and err4:doc():find("unknown permission", 1, true), err4:doc())
local e5, err5 = unix.unveil(TMPDIR .. "/missing", "r")
assert(e5 == nil and err5:name() == "ENOENT" and err5:doc():find("does not exist", 1, true), err5:doc())
print("ok")
