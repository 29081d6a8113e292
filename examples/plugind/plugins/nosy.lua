-- nosy: tries what its promises ("stdio" by default) do not allow. Every
-- attempt fails, and the plugin only gets to say so.
function peek()
  local f, err = io.open("/etc/passwd")
  local ok, rc = pcall(os.execute, "id")
  return f and "read /etc/passwd!" or err, rc
end

function env()
  return os.getenv("HOME"), os.getenv("PATH")
end
