-- make bench: times mpmlua's kernels and, in the same run on the same threads, NumPy's and
-- PyTorch's (when installed), and prints the ratios. Each figure is the fastest of several runs.
--   mpmlua bench/run.lua [--threads N] [--no-reference]
local o = mpm.cli.options(arg, {
  { "threads", 2, "integer", "threads of the NumPy and PyTorch reference" },
  { "no-reference", false, "flag", "skip the NumPy and PyTorch timings" },
}, "mpmlua bench/run.lua [options]")
if o == nil then return end
local threads, reference = o.threads, not o.no_reference

mpm.manual_seed(0)
local F = mpm.nn and mpm.nn.functional
local cases, order = {}, {}
-- Each case returns the tensors it made; they are released at once, as NumPy and PyTorch free
-- their temporaries, instead of waiting for the Lua collector.
local function case(name, f, repeats)
  order[#order + 1] = name
  local function run()
    local made = table.pack(f())
    for i = 1, made.n do made[i]:release() end
  end
  run()  -- warm up: allocator cache, BLAS threads
  cases[name] = mpm.timeit(run, repeats or 10)
end

local a, b = mpm.randn(1024, 1024), mpm.randn(1024, 1024)
case("matmul 1024x1024", function() return a:matmul(b) end)
local big, big2 = mpm.randn(4 * 1024 * 1024), mpm.randn(4 * 1024 * 1024)
case("add 4M floats", function() return big + big2 end)
local rows = mpm.randn(16384, 512)
case("sum over last dim [16384,512]", function() return rows:sum(2) end)
case("masked_fill(x > 0) 4M floats", function()
  local mask = big:gt(0)
  return big:masked_fill(mask, 0), mask
end)

if F and F.layer_norm then
  local x = mpm.randn(16384, 512, {requires_grad = true})
  case("layer_norm fwd+bwd [16384,512]", function()
    local y = F.layer_norm(x, {512})
    y:sum():backward()
    return y
  end, 5)
  case("softmax fwd+bwd [16384,512]", function()
    local y = F.softmax(x, 2)
    y:sum():backward()
    return y
  end, 5)
end

if F and F.packed_attention then
  local lengths, offsets, total = {}, {0}, 0
  for i = 0, 255 do
    lengths[#lengths + 1] = 10 + (i * 37) % 119
    total = total + lengths[#lengths]
    offsets[#offsets + 1] = total
  end
  offsets = mpm.tensor(offsets)
  local q = mpm.randn(total, 512, {requires_grad = true})
  local k = mpm.randn(total, 512, {requires_grad = true})
  local v = mpm.randn(total, 512, {requires_grad = true})
  case("attention fwd+bwd, 256 packed sets, 8x64 heads", function()
    local out = F.packed_attention(q, k, v, offsets, offsets, {num_heads = 8})
    out:sum():backward()
    return out
  end, 3)
end

-- Data loading next to the training step that consumes it (the main job's settings: small
-- preset, batch 48, quantile preprocessing, 40% masking). The loader must outpace the step.
local consumption
if mpm.data and mpm.pretrain then
  local batch_size = 48
  local ds = mpm.data.open("data/jetclass_train.h5")
  local pre = ds:fit_preprocessing{jets = #ds}
  local loader = ds:loader{batch_size = batch_size, shuffle = true, seed = 1, preprocessing = pre, mask = 0.4}
  local jets, t0 = 0, mpm.clock()
  for _ = 1, 3 do
    for batch in loader:iter() do jets = jets + batch.batch_size end
  end
  local loaded = jets / (mpm.clock() - t0)
  local out = os.tmpname()
  os.remove(out)
  local result = mpm.pretrain.run{task = "cfm", steps = 30, batch_size = batch_size, out = out,
    val = "none", quiet = true}
  os.execute("rm -rf '" .. out .. "'")
  consumption = {
    loader = loaded,
    step = result.steps_per_second * batch_size,
    steps_per_second = result.steps_per_second,
  }
end

-- The reference timings, in a child process on the same number of threads.
local ref = {}
if reference then
  local command = ("OPENBLAS_NUM_THREADS=%d OMP_NUM_THREADS=%d python3 bench/reference.py %d 2>/dev/null")
    :format(threads, threads, threads)
  local pipe = io.popen(command)
  local text = pipe and pipe:read("a") or ""
  if pipe then pipe:close() end
  for name, body in text:gmatch('"([^"]+)": (%b{})') do
    ref[name] = {}
    for library, seconds in body:gmatch('"(%w+)": ([%d%.e%-]+)') do ref[name][library] = tonumber(seconds) end
  end
  if next(ref) == nil then print("(NumPy reference unavailable: pip install numpy [torch==2.13.0+cpu])") end
end

local function ms(seconds) return seconds and ("%9.3f ms"):format(seconds * 1e3) or "        -   " end
local function ratio(ours, theirs) return theirs and ("%6.2fx"):format(ours / theirs) or "     - " end
print(("%-48s %12s %12s %12s %8s %8s"):format("case", "mpmlua", "numpy", "torch", "/numpy", "/torch"))
for _, name in ipairs(order) do
  local r = ref[name] or {}
  print(("%-48s %12s %12s %12s %8s %8s"):format(name, ms(cases[name]), ms(r.numpy), ms(r.torch),
    ratio(cases[name], r.numpy), ratio(cases[name], r.torch)))
end
print("ratios below 1 mean mpmlua is faster; measured in one run, fastest of several repeats")
if consumption then
  print(("\ndata loader (preprocessing + masking, batch 48): %9.0f jets/s"):format(consumption.loader))
  print(("training step, small preset CFM + ID:          %9.0f jets/s (%.2f steps/s), loader %.0fx faster"):format(
    consumption.step, consumption.steps_per_second, consumption.loader / consumption.step))
end
