-- unix.spawn starts restricted children without restricting vow: each
-- child's output comes back through a pipe and unix.wait reaps it.
local unix = require "unix"

local function run(prog, argv, opts)
  local r, w = assert(unix.pipe())
  opts = opts or {}
  opts.stdout = w
  local pid, err = unix.spawn(prog, argv, opts)
  unix.close(w)
  if not pid then
    unix.close(r)
    return nil, err
  end
  local out = {}
  while true do
    local s = assert(unix.read(r))
    if s == "" then break end
    out[#out + 1] = s
  end
  unix.close(r)
  local wpid, ws = assert(unix.wait(pid))
  assert(wpid == pid)
  return table.concat(out), ws
end

local function exited0(ws) return unix.WIFEXITED(ws) and unix.WEXITSTATUS(ws) == 0 end

-- No options: the child may do anything this process may.
local out, ws = run(PROBE_BIN, {"probe", "inet"})
assert(out == "ok\n" and exited0(ws), out)

-- promises: the child's socket fails with EPERM (the default penalty).
out, ws = run(PROBE_BIN, {"probe", "inet"}, {promises = "stdio"})
assert(out == "EPERM\n" and exited0(ws), out)

-- This process is not restricted by the child's pledge.
local fd = assert(unix.socket())
assert(unix.close(fd))

-- penalty: a kill ends the child with SIGSYS.
out, ws = run(PROBE_BIN, {"probe", "inet"}, {promises = "stdio", penalty = unix.PLEDGE_PENALTY_KILL_PROCESS})
assert(unix.WIFSIGNALED(ws) and unix.WTERMSIG(ws) == unix.SIGSYS, "want SIGSYS, got status " .. ws)

-- unveil: only TMPDIR is visible (the program itself is unveiled for it).
out, ws = run(PROBE_BIN, {"probe", "read", "/etc/passwd"}, {unveil = {{TMPDIR, "r"}}})
assert(out == "EACCES\n" and exited0(ws), out)

-- A dynamic program under promises: what its loader needs is added.
out, ws = run("/bin/ls", {"ls", "/"}, {promises = "stdio rpath"})
assert(exited0(ws) and out:find("etc\n", 1, true), out)

-- env, dir and rlimits.
out = run(PROBE_BIN, {"probe", "getenv", "FOO"}, {env = {"FOO=bar"}})
assert(out == 'FOO="bar" true\n', out)
out = run(PROBE_BIN, {"probe", "cwd"}, {dir = TMPDIR})
assert(out == "cwd " .. TMPDIR .. " <nil>\n", out)
out = run(PROBE_BIN, {"probe", "rlimits"}, {rlimits = {nofile = 17, fsize = 4096}})
assert(out:find("nofile 17/17", 1, true) and out:find("fsize 4096/4096", 1, true), out)

-- execpromises narrow the program further.
out, ws = run(PROBE_BIN, {"probe", "read", "/etc/passwd"}, {promises = "stdio rpath", execpromises = "stdio"})
assert(out == "EPERM\n" and exited0(ws), out)

-- Failures: nil, Errno, with a doc naming the problem.
local pid, err = unix.spawn("/nonexistent/prog", {"x"})
assert(pid == nil and err:name() == "ENOENT", tostring(err))
pid, err = unix.spawn(PROBE_BIN, {"p"}, {promises = "stdoi"})
assert(pid == nil and err:name() == "EINVAL" and err:doc():find("did you mean 'stdio'", 1, true), err:doc())
pid, err = unix.spawn(PROBE_BIN, {"p"}, {promises = "stdio exec", execpromises = "stdio inet"})
assert(pid == nil and err:name() == "EINVAL" and err:doc():find("subset", 1, true), err:doc())
local ok, msg = pcall(unix.spawn, PROBE_BIN, {"p"}, {rlimits = {bogus = 1}})
assert(not ok and msg:find("unknown limit 'bogus'", 1, true), msg)
print("ok")
