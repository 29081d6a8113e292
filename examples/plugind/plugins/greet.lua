-- greet: plain computation, nothing else.
function hello(name)
  return "hello, " .. tostring(name or "world")
end

function shout(s)
  return string.upper(s) .. "!"
end
