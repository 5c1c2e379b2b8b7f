-- Assertions for Lua test scripts (lua/tests/*.lua) and for users testing their own tasks.
-- Each failure raises an error naming what differed; the Swift test runner reports it.
local cli = require "mpm.cli"
local testing = {}

local function fail(message, level)
  error(message, (level or 1) + 2)
end

-- Plain data (what t:tolist() returns): a table without a metatable.
local function plain(value)
  return type(value) == "table" and getmetatable(value) == nil
end

-- The first place where two values differ: its path ("" at the top) and the two values there,
-- or nil when equal. Plain tables are compared key by key (a pair met again, in a cyclic
-- table, counts as equal); anything else, modules and classes included, with ==.
local function difference(actual, expected, path, seen)
  if plain(actual) and plain(expected) and not rawequal(actual, expected) then
    seen = seen or {}
    if seen[actual] == expected then return nil end
    seen[actual] = expected
    for key, value in pairs(expected) do
      local where, a, e = difference(actual[key], value, ("%s[%s]"):format(path, tostring(key)), seen)
      if where then return where, a, e end
    end
    for key, value in pairs(actual) do
      if expected[key] == nil then return ("%s[%s]"):format(path, tostring(key)), value, nil end
    end
    return nil
  end
  if actual ~= expected then return path, actual, expected end
end

--- testing.equal(actual, expected [, what]): equality; tables (lists from t:tolist()) are
--- compared element by element.
function testing.equal(actual, expected, what)
  local where, a, e = difference(actual, expected, "")
  if where == "" then
    fail(("%s: expected %s, got %s"):format(what or "value", tostring(e), tostring(a)))
  elseif where then
    fail(("%s: at %s expected %s, got %s"):format(what or "value", where, tostring(e), tostring(a)))
  end
end

--- testing.close(actual, expected [, tolerance [, what]]): |a - e| <= tol * max(1, |e|).
function testing.close(actual, expected, tolerance, what)
  tolerance = tolerance or 1e-6
  if type(actual) ~= "number" or math.abs(actual - expected) > tolerance * math.max(1, math.abs(expected)) then
    fail(("%s: expected %s (tolerance %g), got %s"):format(what or "value", tostring(expected),
      tolerance, tostring(actual)))
  end
end

--- testing.raises(f, pattern): f() must fail with a message matching the Lua pattern;
--- returns the message.
function testing.raises(f, pattern)
  local ok, err = pcall(f)
  if ok then fail("expected an error matching '" .. pattern .. "', but the call succeeded") end
  local message = tostring(err)
  if not message:find(pattern) then
    fail("expected an error matching '" .. pattern .. "', got: " .. message)
  end
  return message
end

--- testing.script(path, ...) -> what the script returns: runs a script file (an example) as
--- `mpmlua path ...` would (mpm.cli.run); its error is re-raised as is.
function testing.script(path, ...)
  local ok, result = pcall(cli.run, path, ...)
  if not ok then error(tostring(result), 0) end
  return result
end

return testing
