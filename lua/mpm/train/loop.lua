-- train.loop: the step loop every trainer shares (pre-training, fine-tuning, several processes).
-- It owns the cadence (log, validate, checkpoint), the running means between logged rows, the
-- progress line and the error wording; what one step does is the caller's function.
local mpm = require "mpm.core"
local nn = require "mpm.nn"
local optim = require "mpm.optim"
local format_time = require("mpm.progress").format_time
local loop = {}

local function describe(v) return optim.nonfinite(v) or tostring(v) end

--- train.check_loss(step, name, loss) -> loss:item(): a step's loss must be a finite scalar
--- tensor; otherwise "step 12: loss is NaN (task cfm)".
function loop.check_loss(step, name, loss)
  if not mpm.is_tensor(loss) or loss:numel() ~= 1 then
    error(("step %d: task %s returned %s, not a scalar tensor"):format(step, name,
      mpm.is_tensor(loss) and ("a tensor of " .. loss:numel() .. " elements") or type(loss)), 0)
  end
  local v = loss:item()
  if v ~= v or v == math.huge or v == -math.huge then
    error(("step %d: loss is %s (task %s)"):format(step, describe(v), name), 0)
  end
  return v
end

--- train.optimizer_step{step=, params=, optimizer=, schedule=, clip=, ema=, ema_decay=,
--- names=} -> gradient norm: after backward, clips the gradients (clip = false: none), checks
--- their norm is finite, steps the optimiser and the schedule, and updates the EMA with the
--- warm-up decay min(ema_decay, (1 + n) / (10 + n)).
function loop.optimizer_step(o)
  local grad_norm = o.clip and nn.utils.clip_grad_norm_(o.params, o.clip) or 0
  if grad_norm ~= grad_norm or grad_norm == math.huge then
    error(("step %d: gradient norm is %s (tasks %s)"):format(o.step, describe(grad_norm), o.names), 0)
  end
  o.optimizer:step()
  if o.schedule then o.schedule:step() end
  if o.ema then
    o.ema.decay = math.min(o.ema_decay, (1 + o.ema.num_updates) / (10 + o.ema.num_updates))
    o.ema:update()
  end
  return grad_norm
end

local function new_window() return { n = 0, loss = 0, parts = {}, grad = 0 } end

--- train.loop{start=, steps=, step=, names=, val_names=, log_every=, val_every=, validate=,
--- checkpoint_every=, checkpoint=, row=, metrics=, on_log=, progress=, stop=} -> summary, error
--- step(n) -> {loss = number, parts = {name = number}, grad_norm = number} runs step n;
--- validate(n) -> {loss =, [name] =} or nil; checkpoint(n) saves; row(n) -> the row's fixed
--- columns (epoch, lr, ...), to which the loop adds the window means (loss, grad_norm,
--- loss_<name>) and validation (val_loss, val_loss_<name>, and val_<name> for val_names);
--- each row goes to metrics (a train.Metrics) and on_log(row);
--- stop(n, val) -> true ends the run early (early stopping). Errors are caught and returned
--- as "step n: message", after the progress line is closed, so the caller can clean up.
--- summary = {step, first_loss, last_loss, val, grad_norm, elapsed, steps_per_second, stopped}.
function loop.loop(o)
  local progress, names = o.progress, o.names or {}
  local start, steps = o.start, o.steps
  local window = new_window()
  local s = { step = start }
  local t0 = mpm.clock()

  local function row_for(n, val)
    local row = o.row(n)
    if window.n > 0 then
      row.loss = window.loss / window.n
      row.grad_norm = window.grad / window.n
      for _, name in ipairs(names) do
        if window.parts[name] then row["loss_" .. name] = window.parts[name] / window.n end
      end
    end
    if val then
      row.val_loss = val.loss
      for _, name in ipairs(names) do row["val_loss_" .. name] = val[name] end
      for _, name in ipairs(o.val_names or {}) do row["val_" .. name] = val[name] end
    end
    return row
  end

  local function text_for(n, row)
    local rate = (n - start) / math.max(1e-9, mpm.clock() - t0)
    local parts = {}
    for _, name in ipairs(names) do
      local v = row["loss_" .. name]
      if v then parts[#parts + 1] = ("%s %.4f"):format(name, v) end
    end
    local text = ("step %d/%d | %.2f steps/s | loss %s%s | lr %.2e | ETA %s"):format(n, steps, rate,
      row.loss and ("%.4f"):format(row.loss) or "-", #parts > 0 and (" (" .. table.concat(parts, ", ") .. ")") or "",
      row.lr or 0, format_time((steps - n) / math.max(rate, 1e-9)))
    if row.val_loss then text = text .. (" | val %.4f"):format(row.val_loss) end
    for _, name in ipairs(o.val_names or {}) do
      if row["val_" .. name] then text = text .. (" %s %.4f"):format(name, row["val_" .. name]) end
    end
    return text
  end

  local ok, err = pcall(function()
    while s.step < steps do
      local n = s.step + 1
      s.step = n
      local r = o.step(n)
      if s.first_loss == nil then s.first_loss = r.loss end
      s.last_loss, s.grad_norm = r.loss, r.grad_norm
      window.n = window.n + 1
      window.loss = window.loss + r.loss
      window.grad = window.grad + (r.grad_norm or 0)
      for name, v in pairs(r.parts or {}) do window.parts[name] = (window.parts[name] or 0) + v end

      local val = nil
      if o.val_every and (n % o.val_every == 0 or n == steps) then
        val = o.validate(n)
        s.val = val
      end
      local log_now = n % o.log_every == 0 or n == steps or n == start + 1
      if log_now or val then
        local row = row_for(n, val)
        if o.metrics then o.metrics:write(row) end
        if o.on_log then o.on_log(row) end
        progress:log(text_for(n, row), val ~= nil)
        if log_now then window = new_window() end
      else
        progress:tick(function() return text_for(n, row_for(n, nil)) end)
      end
      if o.checkpoint and (n % o.checkpoint_every == 0 or n == steps) then o.checkpoint(n) end
      if o.stop and o.stop(n, val) then s.stopped = true; break end
    end
  end)
  progress:finish()
  s.elapsed = mpm.clock() - t0
  s.steps_per_second = (s.step - start) / math.max(s.elapsed, 1e-9)
  if not ok and type(err) == "string" and not err:match("^step %d+:") and not err:match("interrupted") then
    err = ("step %d: %s"):format(s.step, err)
  end
  return s, (not ok) and err or nil
end

return loop
