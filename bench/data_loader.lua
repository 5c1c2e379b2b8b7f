-- Loader throughput (jets/s): reading + packing, + quantile preprocessing, + masking 0.4, on a
-- jet file (default: the bundled JetClass-like training file, re-read for several epochs).
--   mpmlua bench/data_loader.lua [--file FILE.h5] [--epochs N] [--batch B]
local o = mpm.cli.options(arg, {
  { "file", "data/jetclass_train.h5", "string", "jet file to read" },
  { "epochs", 10, "integer", "passes over the file per setup" },
  { "batch", 1000, "integer", "jets per batch" },
}, "mpmlua bench/data_loader.lua [options]")
if o == nil then return end
local path, epochs, batch_size = o.file, o.epochs, o.batch

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
