-- Checks that only mean something without privileges; as root they skip.

local function need_unprivileged()
  if unix.geteuid() == 0 then skip("runs as root") end
end

case("reading root's files is refused", function()
  need_unprivileged()
  fails("EACCES", "open", unix.open("/etc/shadow"))
  fails("EACCES", "opendir", unix.opendir("/root"))
  fails("EACCES", "stat", unix.stat("/root/.profile-vow-test"))
end)

case("creating in / is refused", function()
  need_unprivileged()
  fails("EACCES", "open", unix.open("/vow-test-file", {unix.O_WRONLY, unix.O_CREAT}))
  fails("EACCES", "mkdir", unix.mkdir("/vow-test-dir"))
  fails("EACCES", "makedirs", unix.makedirs("/vow-test-dir/a/b"))
  fails("EACCES", "symlink", unix.symlink("x", "/vow-test-link"))
end)

case("changing ids is refused", function()
  need_unprivileged()
  fails("EPERM", "setuid", unix.setuid(0))
  fails("EPERM", "setgid", unix.setgid(0))
  fails("EPERM", "setresuid", unix.setresuid(0, 0, 0))
  fails("EPERM", "chown", unix.chown(TMP, 0, 0))
  fails("EPERM", "chroot", unix.chroot("/"))
end)

case("signals to other users' processes are refused", function()
  need_unprivileged()
  fails("EPERM", "kill", unix.kill(1, 0))
end)

case("low ports and raw sockets are refused", function()
  need_unprivileged()
  local s = assert(unix.socket())
  fails("EACCES", "bind", unix.bind(s, 0x7f000001, 80))
  unix.close(s)
  fails({"EPERM", "EACCES"}, "socket", unix.socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP))
end)

case("commandv skips what it may not run", function()
  need_unprivileged()
  local d = TMP .. "/bin"
  assert(unix.mkdir(d))
  spit(d .. "/tool", "#!/bin/sh\n", "0644")
  fails("EACCES", "commandv", unix.commandv(d .. "/tool"))
end)

case("rmrf into a directory it cannot write", function()
  need_unprivileged()
  fails("EACCES", "rmrf", unix.rmrf("/etc/passwd"))
end)
