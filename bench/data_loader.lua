-- Loader throughput (jets/s): reading + packing, + quantile preprocessing, + masking 0.4, on a
-- jet file (default: the bundled JetClass-like training file, re-read for several epochs).
--   mpmlua bench/data_loader.lua [file.h5] [--epochs N] [--batch B]
local path, epochs, batch_size = "data/jetclass_train.h5", 10, 1000
local i = 1
while i <= #arg do
  if arg[i] == "--epochs" then epochs = tonumber(arg[i + 1]); i = i + 1
  elseif arg[i] == "--batch" then batch_size = tonumber(arg[i + 1]); i = i + 1
  else path = arg[i] end
  i = i + 1
end

local ds = mpm.data.open(path)
local pre = ds:fit_preprocessing{jets = math.min(#ds, 100000)}
print(("loader throughput on %s (%d jets, batch %d, %d epochs, shuffled)"):format(path, #ds, batch_size, epochs))
local setups = {
  {"read + pack", {}},
  {"+ quantile preprocessing", {preprocessing = pre}},
  {"+ preprocessing + masking 0.4", {preprocessing = pre, mask = 0.4}},
}
for _, setup in ipairs(setups) do
  local options = {batch_size = batch_size, shuffle = true, seed = 1}
  for k, v in pairs(setup[2]) do options[k] = v end
  local loader = ds:loader(options)
  local jets, t0 = 0, mpm.clock()
  for _ = 1, epochs do
    for batch in loader:iter() do jets = jets + batch.batch_size end
  end
  local seconds = mpm.clock() - t0
  print(("  %-32s %9.0f jets/s"):format(setup[1], jets / seconds))
end
