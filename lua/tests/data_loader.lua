-- mpm.data loaders: every jet once per epoch, seeded order, epochs reshuffled, options, masking.
local mpm = require "mpm"
local T = require "mpm.testing"

local root = debug.getinfo(1, "S").source:match("^@(.*)lua/tests/[^/]*$") or "./"
local ds = mpm.data.open(root .. "data/jetclass_train.h5")
local n = #ds

local function epoch_order(loader, epoch)
  local order, sizes = {}, {}
  for batch in loader:iter(epoch) do
    sizes[#sizes + 1] = batch.batch_size
    for _, j in ipairs(batch.jet_indices:tolist()) do order[#order + 1] = j end
  end
  return order, sizes
end

local function visits_each_once(order, first, last, what)
  local seen = {}
  for _, j in ipairs(order) do
    if seen[j] then error(what .. ": jet " .. j .. " visited twice") end
    if j < first or j > last then error(what .. ": jet " .. j .. " outside " .. first .. ".." .. last) end
    seen[j] = true
  end
  T.equal(#order, last - first + 1, what .. ": number of jets visited")
end

local loader = ds:loader{batch_size = 256, shuffle = true, seed = 11, window_jets = 700}
T.equal(#loader, math.ceil(n / 256), "#loader")
T.equal(loader.epoch, 1, "epochs count from 1")
local first = epoch_order(loader)
local second = epoch_order(loader)
T.equal(loader.epoch, 3, "each iter() advances the epoch")
visits_each_once(first, 1, n, "epoch 1")
visits_each_once(second, 1, n, "epoch 2")
T.equal(table.concat(first, ",") ~= table.concat(second, ","), true, "epochs are reshuffled")
T.equal(table.concat(first, ","), table.concat(loader:order(1):tolist(), ","), "order() predicts epoch 1")

-- Same seed, same batches; a given epoch can be replayed.
local again = ds:loader{batch_size = 256, shuffle = true, seed = 11, window_jets = 700}
T.equal(table.concat(epoch_order(again, 2), ","), table.concat(second, ","), "same seed and epoch, same order")
local other = ds:loader{batch_size = 256, shuffle = true, seed = 12, window_jets = 700}
T.equal(table.concat(epoch_order(other, 1), ",") ~= table.concat(first, ","), true, "another seed, another order")

-- Without a seed, mpm.manual_seed decides.
mpm.manual_seed(5)
local s1 = ds:loader{shuffle = true}.seed
mpm.manual_seed(5)
T.equal(ds:loader{shuffle = true}.seed, s1, "manual_seed fixes the loader seed")

-- Ranges are 1-based and inclusive; max_jets takes the first jets of the range.
local ranged = ds:loader{batch_size = 100, start = 11, stop = 260}
local order, sizes = epoch_order(ranged)
T.equal(order[1], 11, "start")
T.equal(order[#order], 260, "stop")
T.equal(table.concat(sizes, ","), "100,100,50", "batch sizes")
T.equal(#ds:loader{batch_size = 100, start = 11, stop = 260, drop_last = true}, 2, "drop_last")
local limited = ds:loader{batch_size = 64, shuffle = true, seed = 3, max_jets = 200, start = 101}
visits_each_once(epoch_order(limited), 101, 300, "max_jets")

-- Masking: a fraction, a range per batch, or a Lua function called on the Lua thread.
for batch in ds:loader{batch_size = 500, mask = 0.4, seed = 1}:iter() do
  local m = batch.mask
  T.equal(m.kept:numel() + m.dropped:numel(), batch.num_particles, "kept + dropped")
  T.equal(m.kept_offsets:size(1), batch.batch_size + 1, "kept offsets")
  T.equal(m.ranks:min():item(), 1, "ranks count from 1")
  -- Row numbers are 1-based: index_select picks the dropped particles' features.
  T.equal(batch.features:index_select(1, m.dropped):size(1), m.dropped:numel(), "dropped rows")
  local counts = batch:counts():tolist()
  local dropped_counts = (m.dropped_offsets:narrow(1, 2, batch.batch_size) - m.dropped_offsets:narrow(1, 1, batch.batch_size)):tolist()
  for j = 1, batch.batch_size do
    T.equal(dropped_counts[j], math.floor(0.4 * counts[j]), "floor(0.4 n) dropped in jet " .. j)
  end
end
for batch in ds:loader{batch_size = 500, mask = {0.1, 0.7}, seed = 2}:iter() do
  local f = batch.mask.fraction
  T.equal(f >= 0.1 and f <= 0.7, true, "range fraction")
end
local calls = 0
local sampled = ds:loader{batch_size = 1000, mask = function() calls = calls + 1; return 0.25 end}
for batch in sampled:iter() do T.equal(batch.mask.fraction, 0.25, "function fraction") end
T.equal(calls, #sampled, "the function is called once per batch")
T.raises(function()
  for _ in ds:loader{batch_size = 1000, mask = function() return "lots" end}:iter() do end
end, "mask function must return a fraction")
T.raises(function()
  for _ in ds:loader{batch_size = 1000, mask = function() error("sampler broke") end}:iter() do end
end, "sampler broke")

-- Preprocessing in the loader: features come out transformed.
local pre = ds:fit_preprocessing{jets = 1000}
for batch in ds:loader{batch_size = n, preprocessing = pre, seed = 4}:iter() do
  T.close(batch.features:mean():item(), 0, 0.1, "preprocessed features are centred")
  T.equal(batch.features:abs():max():item() <= 5.2, true, "clipped to 5.2")
end

-- Leaving a loop early stops the background thread; the loader stays usable.
for i = 1, 20 do
  for batch in ds:loader{batch_size = 10, prefetch = 1}:iter() do break end
end
collectgarbage()
T.equal(#epoch_order(ds:loader{batch_size = 999}), n, "loader usable after early exits")

-- Options are checked.
T.raises(function() ds:loader{batch_sz = 10} end, "unknown option 'batch_sz'")
T.raises(function() ds:loader{batch_size = 0} end, "batch_size must be at least 1")
T.raises(function() ds:loader{start = 0} end, "start must lie between 1")
T.raises(function() ds:loader{start = n + 5} end, "start must lie between 1")
T.raises(function() ds:loader{start = 20, stop = 10} end, "stop 10 must lie between start")
-- Extreme sizes are errors or clamps, never crashes.
T.equal(#ds:loader{batch_size = math.maxinteger, max_jets = math.maxinteger}, 1, "one huge batch")
T.raises(function() ds:read({math.mininteger}) end, "out of range")
T.raises(function() ds:loader{stop = n + 1} end, "stop " .. (n + 1))
T.raises(function() ds:loader{mask = 1.5} end, "fraction must lie in")
T.raises(function() ds:loader{mask = "half"} end, "expected a fraction")
T.raises(function() ds:loader{preprocessing = 3} end, "data.Preprocessing expected")
T.raises(function() loader:iter(0) end, "epochs count from 1")
