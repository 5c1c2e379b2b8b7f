-- Fault: a coroutine that yields inside mpm.no_grad (docs/reliability.md, "Coroutines").
-- Before: gradient recording stayed off for the whole process until the coroutine resumed.
-- Now a grad mode scope belongs to its coroutine: it is set aside while the coroutine is
-- suspended and put back when it resumes.
-- usage: mpmlua tools/faults/coroutine_no_grad.lua [--short]
local T = require "mpm.testing"
local enabled = mpm.autograd.is_grad_enabled
local w = mpm.ones(3):requires_grad_(true)
local function records() return (w * 2).requires_grad end

-- Function form: yield twice inside no_grad.
local co = coroutine.create(function()
  mpm.no_grad(function()
    coroutine.yield(enabled(), records())
    coroutine.yield(enabled(), records())
  end)
  return enabled(), records()
end)
local ok, inside, rec = coroutine.resume(co)
T.equal({ ok, inside, rec }, { true, false, false }, "inside no_grad, before the first yield")
T.equal({ enabled(), records() }, { true, true }, "the main thread records after the coroutine yielded")
ok, inside, rec = coroutine.resume(co)
T.equal({ ok, inside, rec }, { true, false, false }, "the resumed coroutine continues with grad off")
T.equal(enabled(), true, "main thread after the second yield")
ok, inside, rec = coroutine.resume(co)
T.equal({ ok, inside, rec }, { true, true, true }, "after no_grad returns inside the coroutine")

-- <close> form, and closing a suspended coroutine that holds an open scope.
local co2 = coroutine.create(function()
  local g <close> = mpm.no_grad()
  coroutine.yield(enabled())
  return enabled()
end)
T.equal(select(2, coroutine.resume(co2)), false, "<close> scope inside the coroutine")
T.equal(enabled(), true, "main thread after a yield in a <close> scope")
T.equal(coroutine.close(co2), true, "closing the suspended coroutine")
T.equal(enabled(), true, "closing it leaves the main thread's mode alone")

-- A coroutine started inside the main thread's no_grad runs in that mode, and the mode the
-- main thread had comes back after each resume.
do
  local g <close> = mpm.no_grad()
  local inner = coroutine.wrap(function()
    local before = enabled()
    mpm.enable_grad(function() coroutine.yield(before, enabled()) end)
    return enabled()
  end)
  T.equal({ inner() }, { false, true }, "coroutine inherits the resumer's mode, then enable_grad")
  T.equal(enabled(), false, "the resumer's no_grad is back after the yield")
  T.equal(inner(), false, "after enable_grad returns inside the coroutine")
end
T.equal(enabled(), true, "after the main thread's scope closed")

-- Errors inside no_grad restore the mode: in the main thread, in a coroutine, with <close>.
T.raises(function() mpm.no_grad(function() error("boom") end) end, "boom")
T.equal(enabled(), true, "after an error inside no_grad")
local failing = coroutine.create(function()
  local g <close> = mpm.no_grad()
  mpm.no_grad(function() error("inner boom") end)
end)
local fok, err = coroutine.resume(failing)
T.equal(fok, false, "the coroutine failed")
T.equal(tostring(err):find("inner boom") ~= nil, true, "with its error")
T.equal(enabled(), true, "after a coroutine failed inside no_grad")
coroutine.close(failing)
T.equal(enabled(), true, "closing the failed coroutine pops nothing of the main thread")
T.equal(mpm.autograd._grad_depth(), 0, "no scope is left open")
local wrapped = coroutine.wrap(function() mpm.no_grad(function() error("wrapped boom") end) end)
T.raises(wrapped, "wrapped boom")
T.equal(enabled(), true, "after a wrapped coroutine failed")

-- A coroutine left suspended inside no_grad and collected leaves nothing behind.
for _ = 1, 100 do
  local c = coroutine.wrap(function() mpm.no_grad(function() coroutine.yield() end) end)
  c()
end
collectgarbage()
T.equal({ enabled(), mpm.autograd._grad_depth() }, { true, 0 }, "abandoned coroutines")

-- Training still works afterwards.
local loss = (w * w):sum()
loss:backward()
T.equal(w.grad:tolist(), { 2, 2, 2 }, "gradients after all of the above")

print("coroutine_no_grad: ok")
