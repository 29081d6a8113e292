-- counter: keeps its state in the host (host.get, host.set), so every
-- worker sees the same count and a restarted worker loses nothing.
function incr(key)
  local n = (host.get(key) or 0) + 1
  host.set(key, n)
  host.log(key .. " is now " .. n)
  return n
end
