-- mpm.autograd, the Lua half: grad-mode and precision scopes (no_grad, enable_grad, autocast;
-- init.lua also installs them as mpm.no_grad, mpm.enable_grad and mpm.autocast) and functional
-- gradients, on the Swift primitives in the core's autograd table, which this module extends
-- and returns.
local mpm = require "mpm.core"
local autograd = mpm.autograd
local push, pop = autograd._push_grad_mode, autograd._pop_grad_mode
local depth, is_enabled = autograd._grad_depth, autograd.is_grad_enabled

-- Coroutines (docs/reliability.md, "Coroutines"): a grad mode scope belongs to the coroutine
-- that opened it. When a resume returns (the coroutine yielded, finished or failed), the
-- scopes it opened are taken off the mode stack and kept with it; the next resume puts them
-- back. A yield inside no_grad thus leaves the resumer's mode as it was, and the coroutine
-- continues with grad off. A coroutine with no scopes of its own runs in its resumer's mode.
local saved = setmetatable({}, { __mode = "k" })     -- suspended coroutine -> its modes
local finished = setmetatable({}, { __mode = "k" })  -- dead coroutines: their scopes are gone

local scope_mt = {
  -- A scope left open by a coroutine that died was taken off when its resume returned.
  __close = function(scope) if not finished[scope.thread] then pop() end end,
  __name = "grad mode scope",
}

local function new_scope(enabled)
  push(enabled)
  return setmetatable({ thread = coroutine.running() }, scope_mt)
end

-- Puts co's own scopes back on the stack; returns the depth to come back to.
local function enter(co)
  local base, modes = depth(), saved[co]
  saved[co] = nil
  if modes then for i = 1, #modes do push(modes[i]) end end
  return base
end

-- Takes the scopes co opened off the stack, keeping them while co is suspended.
local function leave(co, base)
  local modes = {}
  while depth() > base do
    table.insert(modes, 1, is_enabled())
    pop()
  end
  local status = coroutine.status(co)
  if status == "suspended" and #modes > 0 then saved[co] = modes end
  if status == "dead" then finished[co] = true end
end

local raw_resume, raw_close, raw_create = coroutine.resume, coroutine.close, coroutine.create

function coroutine.resume(co, ...)
  if type(co) ~= "thread" then return raw_resume(co, ...) end   -- the usual error
  local base = enter(co)
  local results = table.pack(raw_resume(co, ...))
  leave(co, base)
  return table.unpack(results, 1, results.n)
end

function coroutine.close(co)
  if type(co) ~= "thread" or coroutine.status(co) ~= "suspended" then return raw_close(co) end
  local base = enter(co)   -- its open scopes close (and pop) as it closes
  local results = table.pack(raw_close(co))
  leave(co, base)
  return table.unpack(results, 1, results.n)
end

function coroutine.wrap(f)
  local co = raw_create(f)
  return function(...)
    local results = table.pack(coroutine.resume(co, ...))
    if results[1] then return table.unpack(results, 2, results.n) end
    if coroutine.status(co) == "dead" then raw_close(co) end   -- as Lua's own wrap does
    error(results[2], 2)
  end
end

-- Runs f(...) with grad mode `enabled`, restoring the mode even if f raises.
local function run_in_mode(enabled, f, ...)
  push(enabled)
  local results = table.pack(pcall(f, ...))
  pop()
  if not results[1] then error(results[2], 0) end
  return table.unpack(results, 2, results.n)
end

--- mpm.no_grad([f, ...]): with f, calls f(...) recording nothing for autograd and returns
--- its results; without, returns a scope for `local g <close> = mpm.no_grad()`.
function autograd.no_grad(f, ...)
  if f ~= nil then return run_in_mode(false, f, ...) end
  return new_scope(false)
end

--- mpm.enable_grad([f, ...]): the opposite of no_grad, inside a no_grad region.
function autograd.enable_grad(f, ...)
  if f ~= nil then return run_in_mode(true, f, ...) end
  return new_scope(true)
end

local push_precision, pop_precision = autograd._push_precision, autograd._pop_precision
local precision_scope_mt = { __close = function() pop_precision() end, __name = "precision scope" }

--- mpm.autocast(precision [, f, ...]): with f, calls f(...) with the matrix products of
--- linear layers, matmul and attention in `precision` and returns f's results; without f,
--- returns a scope for `local s <close> = mpm.autocast("bf16")`. "bf16" rounds a product's
--- inputs to bfloat16 and accumulates in fp32 (fp32 results), where that is faster (large
--- products; docs/architecture.md, "Matrix products"); "fp32" is the default. Weights,
--- optimiser state, reductions, softmax, norms and losses stay fp32, and each product's
--- backward runs in its forward's precision, wherever backward() is called. Where the CPU
--- has no bf16 instructions, bf16 products run in fp32: mpm.precision_support("bf16") says
--- so. A scope belongs to the thread that opened it: do not yield out of one.
---   local loss = mpm.autocast("bf16", function() return task:loss(model(batch), target) end)
function autograd.autocast(precision, f, ...)
  local ok, err = pcall(push_precision, precision)
  if not ok then error("autocast: " .. tostring(err), 2) end
  if f == nil then return setmetatable({}, precision_scope_mt) end
  local results = table.pack(pcall(f, ...))
  pop_precision()
  if not results[1] then error(results[2], 0) end
  return table.unpack(results, 2, results.n)
end

--- mpm.autograd.Function{forward = f, backward = g [, name = "lua_function"]} -> fn:
--- a differentiable function with a hand-written backward. fn(...) calls
--- f(ctx, ...) with recording off (it returns one or more tensors) and records one node
--- whose backward calls g(ctx, g1, ..., gn), one gradient per output (nil for an output no
--- gradient reached), which returns one gradient per argument of fn (nil for arguments that
--- are not tensors or need none). The tensor arguments are the node's inputs. Save tensors
--- with ctx:save_for_backward(a, b, ...) and read them as ctx.saved_tensors in g: they are
--- checked for in-place modification, like the built-in ops' saved tensors. Plain values
--- (numbers, shapes) may be stored in ctx directly; tensors must not be.
function autograd.Function(spec)
  if type(spec) ~= "table" or type(spec.forward) ~= "function" or type(spec.backward) ~= "function" then
    error("autograd.Function: expected {forward = function, backward = function}", 2)
  end
  local name = spec.name or "lua_function"
  if type(name) ~= "string" then error("autograd.Function: name must be a string", 2) end
  local forward, backward = spec.forward, spec.backward
  return function(...)
    local args = table.pack(...)
    local ctx = {}
    local to_save = {}
    function ctx.save_for_backward(_, ...)
      to_save = table.pack(...)
      for i = 1, to_save.n do
        if not mpm.is_tensor(to_save[i]) then
          error(name .. ": save_for_backward argument " .. i .. " is a " .. type(to_save[i]) .. ", expected a tensor", 2)
        end
      end
    end
    local outputs = table.pack(autograd.no_grad(forward, ctx, ...))
    if outputs.n == 0 then error(name .. ": forward returned nothing, expected tensors", 2) end
    for i = 1, outputs.n do
      if not mpm.is_tensor(outputs[i]) then
        error(name .. ": forward result " .. i .. " is a " .. type(outputs[i]) .. ", expected a tensor", 2)
      end
    end
    ctx.save_for_backward = nil
    local inputs, positions = {}, {}
    for i = 1, args.n do
      if mpm.is_tensor(args[i]) then
        inputs[#inputs + 1] = args[i]
        positions[#positions + 1] = i
      end
    end
    local saved = { table.unpack(to_save, 1, to_save.n) }
    to_save = nil
    -- Captures ctx and argument positions only: the node must not hold its own tensors.
    local results = autograd._function(name, inputs, { table.unpack(outputs, 1, outputs.n) }, saved,
      function(saved_tensors, ...)
        ctx.saved_tensors = saved_tensors
        local grads = table.pack(backward(ctx, ...))
        ctx.saved_tensors = nil
        if grads.n > args.n then
          error(name .. ": backward returned " .. grads.n .. " gradients for " .. args.n .. " arguments", 0)
        end
        local by_input = {}
        for k, position in ipairs(positions) do by_input[k] = grads[position] end
        return table.unpack(by_input, 1, #positions)
      end)
    return table.unpack(results, 1, outputs.n)
  end
end

-- Flattens nested tables of tensors into a list, remembering where each came from.
local function flatten(value, list, seen)
  if mpm.is_tensor(value) then
    list[#list + 1] = value
    return
  end
  if type(value) ~= "table" then return end
  if seen[value] then error("autograd.grad: the argument table contains a cycle", 3) end
  seen[value] = true
  for _, child in pairs(value) do flatten(child, list, seen) end
end

-- Rebuilds `value`'s shape, replacing each tensor by its entry in `map`.
local function rebuild(value, map)
  if mpm.is_tensor(value) then return map[value] end
  if type(value) ~= "table" then return value end
  local copy = {}
  for k, child in pairs(value) do copy[k] = rebuild(child, map) end
  return copy
end

--- mpm.autograd.grad(f) -> g, with g(params, ...) returning grads, value, ...:
--- the gradients of the scalar f(params, ...) with respect to every tensor in `params`
--- (a tensor or nested tables of tensors), shaped like `params`. Nothing touches .grad.
function autograd.grad(f)
  if type(f) ~= "function" then error("autograd.grad: expected a function, got " .. type(f), 2) end
  return function(params, ...)
    local originals = {}
    flatten(params, originals, {})
    if #originals == 0 then error("autograd.grad: the first argument holds no tensors", 2) end
    local leaves, map = {}, {}
    for i, t in ipairs(originals) do
      leaves[i] = t:detach():requires_grad_(true)
      map[t] = leaves[i]
    end
    local results = table.pack(autograd.enable_grad(f, rebuild(params, map), ...))
    local value = results[1]
    if not mpm.is_tensor(value) or value:numel() ~= 1 then
      error("autograd.grad: f must return a one-element tensor first, got " ..
        (mpm.is_tensor(value) and ("a tensor with " .. value:numel() .. " elements") or type(value)), 2)
    end
    local gradients = autograd.grad_of(value, leaves)
    local by_original = {}
    for i, t in ipairs(originals) do by_original[t] = gradients[i] end
    return rebuild(params, by_original), table.unpack(results, 1, results.n)
  end
end

return autograd
