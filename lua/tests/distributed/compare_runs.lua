-- mpmlua compare_runs.lua DIR_A DIR_B TOLERANCE: the per-step losses of two pre-training runs
-- (metrics.csv) and their final weights (checkpoint.h5) agree within TOLERANCE (relative for
-- losses, absolute for weights). Prints "compare_runs: ok (loss diff D, weight diff W)".
local a, b, tolerance = arg[1], arg[2], tonumber(arg[3])
local function losses(dir)
  local rows = mpm.plot.read_metrics(mpm.files.join(dir, "metrics.csv"))
  return rows.loss
end
local la, lb = losses(a), losses(b)
assert(#la == #lb and #la > 0, ("%d and %d logged losses"):format(#la, #lb))
local loss_diff = 0
for i = 1, #la do loss_diff = math.max(loss_diff, math.abs(la[i] - lb[i]) / math.abs(la[i])) end
local wa, wb = mpm.load(mpm.files.join(a, "checkpoint.h5")).model, mpm.load(mpm.files.join(b, "checkpoint.h5")).model
local weight_diff, n = 0, 0
for name, t in pairs(wa) do
  assert(wb[name], "the second run lacks " .. name)
  weight_diff = math.max(weight_diff, (t - wb[name]):abs():max():item())
  n = n + 1
end
assert(n > 0, "no weights in the checkpoint")
if loss_diff > tolerance or weight_diff > tolerance then
  error(("compare_runs: losses differ by %.3g (relative), weights by %.3g; tolerance %.3g"):format(loss_diff, weight_diff, tolerance), 0)
end
print(("compare_runs: ok (loss diff %.3g, weight diff %.3g over %d steps)"):format(loss_diff, weight_diff, #la))
