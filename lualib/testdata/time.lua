-- Time and poll (T2).

local function now(clock)
  local s, ns = unix.clock_gettime(clock)
  return s + ns / 1e9
end

case("clock_gettime", function()
  local s, ns = unix.clock_gettime()
  truthy(s > 1.6e9, "realtime seconds")
  truthy(ns >= 0 and ns < 1e9, "nanos")
  truthy(math.abs(s - os.time()) <= 2, "matches os.time")
  for _, c in ipairs({"CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_BOOTTIME", "CLOCK_MONOTONIC_RAW",
      "CLOCK_REALTIME_COARSE", "CLOCK_MONOTONIC_COARSE", "CLOCK_PROCESS_CPUTIME_ID",
      "CLOCK_THREAD_CPUTIME_ID"}) do
    local a, b = unix.clock_gettime(unix[c])
    eq(type(a), "number", c); eq(type(b), "number", c)
  end
  fails("EINVAL", "clock_gettime", unix.clock_gettime(12345))
end)

case("nanosleep sleeps the whole time", function()
  local t0 = now(unix.CLOCK_MONOTONIC)
  local rs, rn = unix.nanosleep(0, 100e6)
  local t1 = now(unix.CLOCK_MONOTONIC)
  eq(rs, 0); eq(rn, 0)
  truthy(t1 - t0 >= 0.099, "slept " .. (t1 - t0))
  eq(unix.nanosleep(0), 0)
  fails("EINVAL", "nanosleep", unix.nanosleep(0, 1e9))
  fails("EINVAL", "nanosleep", unix.nanosleep(0, -1))
  fails("EINVAL", "nanosleep", unix.nanosleep(-1))
end)

case("nanosleep survives the Go runtime's signals", function()
  -- Enough goroutine preemption happens during a GC to interrupt a sleep.
  local t0 = now(unix.CLOCK_MONOTONIC)
  for _ = 1, 5 do
    collectgarbage()
    assert(unix.nanosleep(0, 20e6))
  end
  truthy(now(unix.CLOCK_MONOTONIC) - t0 >= 0.099, "total sleep")
end)

case("poll: readiness and timeout", function()
  local r, w = assert(unix.pipe())
  local t0 = now(unix.CLOCK_MONOTONIC)
  local rev = unix.poll({[r] = unix.POLLIN}, 50)
  eq(type(rev), "table")
  eq(next(rev), nil, "empty on timeout")
  truthy(now(unix.CLOCK_MONOTONIC) - t0 >= 0.045, "waited")
  rev = assert(unix.poll({[r] = unix.POLLIN, [w] = unix.POLLOUT}, 0))
  eq(rev[r], nil)
  eq(rev[w], unix.POLLOUT)
  assert(unix.write(w, "x"))
  rev = assert(unix.poll({[r] = {unix.POLLIN, unix.POLLPRI}}))
  eq(rev[r], unix.POLLIN, "no timeout: wait until ready")
  assert(unix.close(w))
  rev = assert(unix.poll({[r] = unix.POLLIN}, 0))
  truthy(unix.btest(rev[r], unix.POLLHUP), "hang-up reported")
  assert(unix.close(r))
  rev = assert(unix.poll({[r] = unix.POLLIN, [-1] = unix.POLLIN, x = 1}, 0))
  eq(rev[r], unix.POLLNVAL, "closed fd")
  eq(rev[-1], nil, "negative keys are never reported")
  eq(rev.x, nil)
end)

case("poll: argument errors", function()
  raises("bad argument #1 to 'poll' (table expected, got number)", unix.poll, 1)
  raises("bad argument #3 to 'poll'", unix.poll, {}, 0, {})
  raises("bad argument #1 to 'poll' (events must be integers)", unix.poll, {[0] = "x"}, 0)
end)
