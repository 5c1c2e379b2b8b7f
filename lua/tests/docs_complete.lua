-- Every Swift function reachable from mpm, and every tensor method, carries a docstring, so
-- help(x) and docs/reference.md cover the whole API.
local missing = {}
local function walk(t, prefix, seen)
  if seen[t] then return end
  seen[t] = true
  for k, v in pairs(t) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" then
      if type(v) == "function" and debug.getinfo(v, "S").what == "C" and mpm.doc(v) == nil then
        missing[#missing + 1] = prefix .. k
      elseif type(v) == "table" then
        walk(v, prefix .. k .. ".", seen)
      end
    end
  end
end
walk(mpm, "mpm.", {})
for name, f in pairs(getmetatable(mpm.zeros(1)).methods) do
  if mpm.doc(f) == nil then missing[#missing + 1] = "tensor:" .. name end
end
table.sort(missing)
assert(#missing == 0, "functions without a docstring: " .. table.concat(missing, ", "))
