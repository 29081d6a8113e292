-- test.lua: the small test library loaded before every testdata/*.lua file.
-- case(name, fn) runs fn and records its failure; the Go side reports
-- TEST_RESULTS. Helpers raise with a clear message on mismatch.

TEST_RESULTS = {passed = 0, failures = {}, skipped = {}}

local SKIP = {}

function skip(why)
  error({[SKIP] = why}, 0)
end

function case(name, fn)
  local ok, err = xpcall(fn, function(e)
    if type(e) == "table" and e[SKIP] then return e end
    return debug.traceback(tostring(e), 2)
  end)
  if ok then
    TEST_RESULTS.passed = TEST_RESULTS.passed + 1
  elseif type(err) == "table" and err[SKIP] then
    table.insert(TEST_RESULTS.skipped, name .. ": " .. err[SKIP])
  else
    table.insert(TEST_RESULTS.failures, name .. ": " .. tostring(err))
  end
end

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

-- eq(got, want[, what])
function eq(got, want, what)
  if got ~= want then
    error(string.format("%s: got %s, want %s", what or "value", show(got), show(want)), 2)
  end
end

-- truthy(v[, what]) / falsy(v[, what])
function truthy(v, what)
  if not v then error((what or "value") .. ": got " .. show(v) .. ", want a true value", 2) end
  return v
end

-- is_errno(v) is true for a unix.Errno object.
function is_errno(v)
  return type(v) == "userdata" and getmetatable(v) ~= nil and getmetatable(v).__name == "unix.Errno"
end

-- fails(name, call, v, err): checks the failure shape `nil, Errno` of a
-- call; name is the expected errno name ("ENOENT") or a list of accepted
-- names; call the expected err:call().
function fails(name, call, ...)
  local n = select("#", ...)
  local v, err = ...
  if v ~= nil then
    error(string.format("%s: got success %s, want nil, %s", call, show(v), tostring(name)), 2)
  end
  if n ~= 2 then
    error(string.format("%s: got %d results on failure, want 2", call, n), 2)
  end
  if not is_errno(err) then
    error(string.format("%s: second result %s is not a unix.Errno", call, show(err)), 2)
  end
  local names = type(name) == "table" and name or {name}
  local okname = false
  for _, nm in ipairs(names) do
    if err:name() == nm then okname = true end
  end
  if not okname then
    error(string.format("%s: got %s (%s), want %s", call, err:name(), tostring(err),
      table.concat(names, " or ")), 2)
  end
  if err:errno() ~= unix[err:name()] and err:name() ~= "EOPNOTSUPP" then
    error(string.format("%s: errno() %d does not match unix.%s", call, err:errno(), err:name()), 2)
  end
  if err:call() ~= call then
    error(string.format("call(): got %q, want %q", err:call(), call), 2)
  end
  return err
end

-- raises(pattern, fn, ...): fn(...) must raise an error whose message
-- contains pattern (plain text).
function raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error("expected an error matching " .. show(pattern) .. ", got success", 2) end
  local msg = tostring(err)
  if not string.find(msg, pattern, 1, true) then
    error("error " .. show(msg) .. " does not contain " .. show(pattern), 2)
  end
  return msg
end

-- nresults(...) counts values, to check exact result shapes.
function nresults(...) return select("#", ...) end

-- octal("755") -> 493
function octal(s) return tonumber(s, 8) end

-- slurp(path) reads a whole file through the unix module.
function slurp(path)
  local fd = assert(unix.open(path))
  local parts = {}
  while true do
    local s = assert(unix.read(fd, 65536))
    if s == "" then break end
    parts[#parts + 1] = s
  end
  assert(unix.close(fd))
  return table.concat(parts)
end

-- spit(path, data[, mode]) creates or replaces a file.
function spit(path, data, mode)
  local fd = assert(unix.open(path, {unix.O_WRONLY, unix.O_CREAT, unix.O_TRUNC}, mode or "0644"))
  assert(unix.write(fd, data) == #data)
  assert(unix.close(fd))
end

-- fd_is_open(fd)
function fd_is_open(fd)
  return unix.fcntl(fd, unix.F_GETFD) ~= nil
end

-- free_fd(from) returns a descriptor number >= from that is not open.
function free_fd(from)
  local fd = from
  while fd_is_open(fd) do fd = fd + 1 end
  return fd
end

TMP = test.tmpdir
ROOT = test.root
