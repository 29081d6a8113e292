-- lib.lua: the small test library loaded before every test script.
-- case(name, fn) runs fn and records a failure; the Go side reports
-- RESULTS.

RESULTS = {passed = 0, failures = {}}

function case(name, fn)
  local ok, err = xpcall(fn, function(e) return debug.traceback(tostring(e), 2) end)
  if ok then
    RESULTS.passed = RESULTS.passed + 1
  else
    table.insert(RESULTS.failures, name .. ": " .. tostring(err))
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

-- truthy(v[, what])
function truthy(v, what)
  if not v then error((what or "value") .. ": got " .. show(v) .. ", want a true value", 2) end
  return v
end

-- contains(s, part[, what]): s is a string containing part (plain).
function contains(s, part, what)
  if type(s) ~= "string" or not s:find(part, 1, true) then
    error(string.format("%s: got %s, want a string containing %q", what or "value", show(s), part), 2)
  end
end

-- raises(part, f, ...): f(...) raises an error whose text contains part.
function raises(part, f, ...)
  local ok, err = pcall(f, ...)
  if ok then error("no error raised, want one containing " .. show(part), 2) end
  contains(tostring(err), part, "error")
end

-- failed(kind, ok, err): vow.run returned nil and an err of that kind.
function failed(kind, ok, err)
  if ok ~= nil then error("vow.run succeeded, want failure of kind " .. kind, 2) end
  if type(err) ~= "table" then error("err is " .. show(err) .. ", want a table", 2) end
  if err.kind ~= kind then
    error(string.format("err.kind %s (%s), want %s", show(err.kind), show(err.message), show(kind)), 2)
  end
  return err
end
