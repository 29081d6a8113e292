-- Processes: T1 wait/kill/W*/commandv/environ/getrlimit/setrlimit (error
-- paths; changes run in child processes from Go), T2 ids, groups, rusage.

case("getpid, getppid, gettid", function()
  local pid = unix.getpid()
  eq(type(pid), "number")
  truthy(pid > 1, "pid")
  truthy(unix.getppid() >= 0, "ppid")
  truthy(unix.gettid() > 0, "tid")
  eq(nresults(unix.getpid()), 1)
end)

case("ids", function()
  for _, f in ipairs({"getuid", "getgid", "geteuid", "getegid"}) do
    local v = unix[f]()
    eq(type(v), "number", f)
    truthy(v >= 0, f)
  end
end)

case("strsignal", function()
  eq(unix.strsignal(9), "SIGKILL")
  eq(unix.strsignal(unix.SIGKILL), "SIGKILL")
  eq(unix.strsignal(1), "SIGHUP")
  eq(unix.strsignal(31), "SIGSYS")
  eq(unix.strsignal(unix.SIGTERM), "SIGTERM")
  eq(unix.strsignal(16), "SIG16")
  eq(unix.strsignal(29), "SIG29")
  eq(unix.strsignal(30), "SIG30")
  eq(unix.strsignal(0), "0")
  eq(unix.strsignal(32), "SIGTHR")
  eq(unix.strsignal(33), "SIG???")
  eq(unix.strsignal(-1), "SIG???")
  for sig = 1, 31 do
    local name = unix.strsignal(sig)
    if unix[name] then eq(unix[name], sig, name) end
  end
end)

case("W* decoders", function()
  local exited42 = 42 * 256
  eq(unix.WIFEXITED(exited42), true)
  eq(unix.WEXITSTATUS(exited42), 42)
  eq(unix.WIFSIGNALED(exited42), false)
  eq(unix.WIFEXITED(9), false)
  eq(unix.WIFSIGNALED(9), true)
  eq(unix.WTERMSIG(9), 9)
  eq(unix.WIFSIGNALED(0x7f), false, "stopped is not signaled")
  eq(unix.WIFEXITED(0x7f), false)
  eq(unix.WIFSIGNALED(0x80 + 6), true, "core dump bit")
  eq(unix.WTERMSIG(0x80 + 6), 6)
end)

case("wait: exit status and rusage of a child", function()
  local pid = test.spawn("/bin/sh", "-c", "exit 42")
  local got, ws, ru = unix.wait(pid)
  eq(got, pid, "pid")
  eq(unix.WIFEXITED(ws), true)
  eq(unix.WEXITSTATUS(ws), 42)
  eq(unix.WIFSIGNALED(ws), false)
  eq(getmetatable(ru).__name, "unix.Rusage")
  local s, ns = ru:utime()
  truthy(s >= 0 and ns >= 0 and ns < 1e9, "utime")
end)

case("wait with no arguments reaps any child", function()
  local pid = test.spawn("/bin/sh", "-c", "exit 3")
  local got, ws = unix.wait()
  eq(got, pid)
  eq(unix.WEXITSTATUS(ws), 3)
end)

case("wait: WNOHANG with nothing ready gives 0, 0", function()
  local pid = test.spawn("/bin/sleep", "10")
  local got, ws, ru = unix.wait(pid, unix.WNOHANG)
  eq(got, 0); eq(ws, 0)
  eq(ru:maxrss(), 0)
  eq(tostring(ru), "{utime={0, 0}}")
  assert(unix.kill(pid, unix.SIGTERM))
  local got2, ws2 = assert(unix.wait(pid))
  eq(got2, pid)
  eq(unix.WIFSIGNALED(ws2), true)
  eq(unix.WTERMSIG(ws2), unix.SIGTERM)
end)

case("wait: ECHILD", function()
  fails("ECHILD", "wait", unix.wait(unix.getpid()))
  fails("ECHILD", "wait", unix.wait(999999))
end)

case("kill: signal 0 probes, errors", function()
  eq(unix.kill(unix.getpid(), 0), true)
  fails("ESRCH", "kill", unix.kill(2^30, 0))
  fails("EINVAL", "kill", unix.kill(unix.getpid(), 1000))
  if not ROOT then
    fails("EPERM", "kill", unix.kill(1, 0))
  end
end)

case("kill: a child", function()
  local pid = test.spawn("/bin/sleep", "10")
  eq(unix.kill(pid, unix.SIGKILL), true)
  local _, ws = assert(unix.wait(pid))
  eq(unix.WTERMSIG(ws), unix.SIGKILL)
end)

case("raise: invalid signal", function()
  fails("EINVAL", "raise", unix.raise(1000))
  eq(unix.raise(0), 0, "signal 0")
end)

case("environ", function()
  local env = unix.environ()
  eq(type(env), "table")
  truthy(#env > 0, "non-empty")
  local found = false
  for _, kv in ipairs(env) do
    eq(type(kv), "string")
    if kv:match("^PATH=") then found = true end
  end
  truthy(found, "PATH present")
  eq(unix.environ() ~= env, true, "a new table each time")
end)

case("commandv: PATH search", function()
  local sh = assert(unix.commandv("sh"))
  truthy(sh:match("/sh$"), sh)
  eq(unix.commandv("/bin/sh"), "/bin/sh")
  fails("ENOENT", "commandv", unix.commandv(""))
  -- EACCES when some $PATH directory may not be searched
  fails({"ENOENT", "EACCES"}, "commandv", unix.commandv("no-such-program-vow-test"))
  fails("ENOENT", "commandv", unix.commandv("/nonexistent/prog"))
end)

case("commandv: directories and non-executables are refused", function()
  local d = TMP .. "/cmdv"
  assert(unix.makedirs(d .. "/bin/prog"))   -- a directory named prog
  spit(d .. "/noexec", "#!/bin/sh\n", "0644")
  fails({"EACCES"}, "commandv", unix.commandv(d .. "/bin/prog"))
  if not ROOT then
    fails("EACCES", "commandv", unix.commandv(d .. "/noexec"))
  end
  spit(d .. "/bin/tool", "#!/bin/sh\n", "0755")
  local ok, err = unix.commandv(d .. "/bin/tool")
  eq(ok, d .. "/bin/tool")
end)

case("getrlimit", function()
  local soft, hard = unix.getrlimit(unix.RLIMIT_NOFILE)
  eq(type(soft), "number"); eq(type(hard), "number")
  truthy(soft <= hard or hard == -1, "soft <= hard")
  local s, h = assert(unix.getrlimit(unix.RLIMIT_CPU))
  eq(nresults(unix.getrlimit(unix.RLIMIT_AS)), 2)
  fails("EINVAL", "getrlimit", unix.getrlimit(9999))
end)

case("setrlimit: errors change nothing", function()
  local soft, hard = unix.getrlimit(unix.RLIMIT_NOFILE)
  fails("EINVAL", "setrlimit", unix.setrlimit(9999, 1))
  fails("EINVAL", "setrlimit", unix.setrlimit(unix.RLIMIT_NOFILE, 100, 10))
  local s2, h2 = unix.getrlimit(unix.RLIMIT_NOFILE)
  eq(s2, soft); eq(h2, hard)
end)

case("setrlimit: soft limit round trip", function()
  local soft, hard = unix.getrlimit(unix.RLIMIT_FSIZE)
  local want = 1048576
  if hard ~= -1 and hard < want then want = hard end
  eq(unix.setrlimit(unix.RLIMIT_FSIZE, want, hard), true)
  local s2, h2 = unix.getrlimit(unix.RLIMIT_FSIZE)
  eq(s2, want); eq(h2, hard)
  assert(unix.setrlimit(unix.RLIMIT_FSIZE, soft, hard))
  eq(unix.getrlimit(unix.RLIMIT_FSIZE), soft)
end)

case("getrusage", function()
  local ru = assert(unix.getrusage())
  truthy(ru:maxrss() > 0, "maxrss")
  local s, ns = ru:stime()
  truthy(ns >= 0 and ns < 1e9, "stime nanos")
  for _, m in ipairs({"ixrss", "idrss", "isrss", "minflt", "majflt", "nswap", "inblock",
      "oublock", "msgsnd", "msgrcv", "nsignals", "nvcsw", "nivcsw"}) do
    eq(type(ru[m](ru)), "number", m)
  end
  truthy(tostring(ru):match("^{utime={%d+, %d+}.*maxrss=%d+"), tostring(ru))
  assert(unix.getrusage(unix.RUSAGE_CHILDREN))
  assert(unix.getrusage(unix.RUSAGE_THREAD))
  fails("EINVAL", "getrusage", unix.getrusage(unix.RUSAGE_BOTH))
end)

case("process groups and sessions", function()
  local pg = unix.getpgrp()
  eq(unix.getpgid(0), pg)
  eq(unix.getpgid(unix.getpid()), pg)
  -- 0 when the session leader lives outside our pid namespace (containers)
  truthy(unix.getsid(0) >= 0, "getsid")
  eq(unix.getsid(), unix.getsid(0))
  fails("ESRCH", "getpgid", unix.getpgid(2^30))
  fails("ESRCH", "getsid", unix.getsid(2^30))
  fails("ESRCH", "setpgid", unix.setpgid(2^30, 0))
  eq(unix.setpgid(0, pg), true, "moving into our own group is a no-op")
  -- a child that has already exec'd cannot be moved
  local pid = test.spawn("/bin/sleep", "10")
  fails("EACCES", "setpgid", unix.setpgid(pid, pid))
  unix.kill(pid, unix.SIGKILL)
  unix.wait(pid)
end)

case("setsid fails for a group leader", function()
  if unix.getpgrp() == unix.getpid() then
    fails("EPERM", "setsid", unix.setsid())
  else
    skip("the test process is not a group leader")
  end
end)

case("umask round trip with octal strings", function()
  local old = unix.umask("027")
  eq(unix.umask(old), octal("027"))
  eq(unix.umask(old), old)
  raises("bad argument #1 to 'umask'", unix.umask)
end)

case("setuid/setgid errors", function()
  fails("EINVAL", "setuid", unix.setuid(-1))
  if not ROOT then
    fails("EPERM", "setuid", unix.setuid(0))
    fails("EPERM", "setgid", unix.setgid(0))
  else
    eq(unix.setuid(unix.getuid()), true)
    eq(unix.setgid(unix.getgid()), true)
  end
end)

case("execve errors", function()
  fails("ENOENT", "execve", unix.execve("/nonexistent/prog"))
  fails("EACCES", "execve", unix.execve(TMP))
  local f = TMP .. "/notexec"
  spit(f, "data", "0644")
  fails("EACCES", "execve", unix.execve(f, {f}))
  fails("ENOTDIR", "execve", unix.execve(f .. "/x", {"x"}, {}))
end)

case("chroot needs root", function()
  if ROOT then skip("runs as root; covered by TestChroot") end
  fails("EPERM", "chroot", unix.chroot(TMP))
end)

case("sched_yield returns nothing", function()
  eq(nresults(unix.sched_yield()), 0)
end)
