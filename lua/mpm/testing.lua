-- Assertions for Lua test scripts (lua/tests/*.lua) and for users testing their own tasks.
-- Each failure raises an error naming what differed; the Swift test runner reports it.
local testing = {}

local function fail(message, level)
  error(message, (level or 1) + 2)
end

--- testing.equal(actual, expected [, what]): primitive equality.
function testing.equal(actual, expected, what)
  if actual ~= expected then
    fail(("%s: expected %s, got %s"):format(what or "value", tostring(expected), tostring(actual)))
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

return testing
