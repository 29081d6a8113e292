-- "c" grants creating and removing, only beneath what is unveiled with it.
local unix = require "unix"
local work, keep = TMPDIR .. "/work", TMPDIR .. "/keep"
assert(unix.makedirs(work, "755"))
assert(unix.makedirs(keep, "755"))
for _, p in ipairs({work .. "/a", keep .. "/b"}) do
  assert(unix.close(assert(unix.open(p, {unix.O_WRONLY, unix.O_CREAT}, "600"))))
end
assert(unix.unveil(work, "rwc"))
assert(unix.unveil(keep, "rw"))
assert(unix.unveil(nil, nil))
assert(unix.pledge("stdio rpath wpath cpath", nil, unix.PLEDGE_PENALTY_RETURN_EPERM))

assert(unix.unlink(work .. "/a"))
assert(unix.close(assert(unix.open(work .. "/c", {unix.O_WRONLY, unix.O_CREAT}, "600"))))
local ok, err = unix.unlink(keep .. "/b")
assert(ok == nil and err:name() == "EACCES")
local fd, cerr = unix.open(keep .. "/d", {unix.O_WRONLY, unix.O_CREAT}, "600")
assert(fd == nil and cerr:name() == "EACCES")
print("ok")
