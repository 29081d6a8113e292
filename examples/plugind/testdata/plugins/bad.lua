-- bad: misbehaving on purpose, for the tests.
function spin() while true do end end
function crash() os.exit(3) end
function hog() local t = {} for i = 1, 1e9 do t[i] = i end end
function fail() error("nope") end
function ok() return "still here" end
