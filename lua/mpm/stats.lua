-- mpm.stats: summary statistics of repeated measurements (seeds, jets of a bin), one home for
-- the mean, the standard deviation and the standard error that the protocols report.
local stats = {}

--- mpm.stats.summary(values) -> {n=, mean=, sd=, se=}: the mean of a list of numbers, its
--- sample standard deviation (divided by n - 1) and the standard error of the mean (sd /
--- sqrt(n)). One value gives sd = se = 0; an empty list gives {n = 0} and nothing else; a NaN
--- value is an error naming it.
---   local s = mpm.stats.summary{0.81, 0.83, 0.82}   -- s.mean 0.82, s.sd 0.01, s.se 0.0058
function stats.summary(values)
  if type(values) ~= "table" then error("stats.summary: expected a list of numbers, got " .. type(values), 2) end
  local n = #values
  if n == 0 then return { n = 0 } end
  local sum = 0
  for i = 1, n do
    local v = values[i]
    if type(v) ~= "number" then error(("stats.summary: value %d is a %s, not a number"):format(i, type(v)), 2) end
    -- A NaN (a diverged run, a metric of nothing) would make the mean and spread NaN.
    if v ~= v then error(("stats.summary: value %d of %d is NaN"):format(i, n), 2) end
    sum = sum + v
  end
  local mean, squares = sum / n, 0
  for i = 1, n do squares = squares + (values[i] - mean) ^ 2 end
  local sd = n > 1 and math.sqrt(squares / (n - 1)) or 0
  return { n = n, mean = mean, sd = sd, se = sd / math.sqrt(n) }
end

return stats
