-- words: text statistics over tables.
function count(text)
  local n, freq = 0, {}
  for w in text:lower():gmatch("%a+") do
    n = n + 1
    freq[w] = (freq[w] or 0) + 1
  end
  return n, freq
end
