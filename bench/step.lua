-- make bench-step: the MPM training step and backbone inference, mpmlua against a PyTorch eager
-- twin (bench/step_torch.py: same architecture, heads and parameter count, padded to the batch
-- maximum with scaled_dot_product_attention and a key mask), on the same jets and threads.
--   mpmlua bench/step.lua [--threads 2] [--steps-small 5] [--steps-paper 2] [--embed-calls 5] [--rounds 2] [--no-torch] [--cases a,b] [--precisions fp32,bf16]
--                         [--precisions fp32,bf16]
-- The step: B = 256 jets, multiplicities uniform in 10..64 (or the first 256 bundled JetClass-like
-- jets), 40% of each jet dropped, ID (weight 0.3) + CFM heads, AdamW, gradient clipping at 1.0,
-- in each precision of --precisions: fp32, and bf16 mixed precision (mpmlua's step and embedding
-- inside mpm.autocast("bf16"), the twin's inside torch.autocast("cpu", dtype=torch.bfloat16); a
-- CPU without bf16 instructions runs mpmlua's "bf16" rows in fp32 and says so). Each case runs in its own process (peak RSS per case); times are medians of the timed
-- steps (of --embed-calls backbone embeddings, 5 for every preset: one paper step takes as long
-- as two of them, and two calls made a noisy median) after warm-up, the fastest of the rounds.
-- GFLOP/s count the real (unpadded) matrix work only: linear layers and attention products,
-- backward = 2x forward, set by set on the true lengths; %sgemm compares them with the sgemm
-- each case measures in its own process.
local o = mpm.cli.options(arg, {
  { "threads", 2, "integer", "kernel threads of both sides" },
  { "steps-small", 5, "integer", "timed training steps of the small preset" },
  { "steps-paper", 2, "integer", "timed training steps of the paper preset" },
  { "embed-calls", 5, "integer", "timed backbone embeddings per case" },
  { "rounds", 2, "integer", "runs of each case (the fastest is kept)" },
  { "no-torch", false, "flag", "skip the PyTorch twin" },
  { "cases", "small,paper,jetclass-small", "string", "comma-separated cases" },
  { "precisions", "fp32,bf16", "string", "comma-separated precisions (fp32, bf16: mpm.autocast against torch.autocast)" },
  { "child", false, "string", "internal: run one case in this process" },
  { "precision", "fp32", "string", "internal: the child's precision" },
}, "mpmlua bench/step.lua [options]")
if o == nil then return end
local child, child_precision = o.child, o.precision

local B, MASK, ID_WEIGHT = 256, 0.4, 0.3
local PRESETS = {
  small = { D = 128, L = 4, R = 4, Dd = 64, Ld = 2 },
  paper = { D = 512, L = 8, R = 8, Dd = 128, Ld = 4 },
}

-- The case's jet multiplicities: uniform 10..64 from a fixed seed, or the bundled jets.
local function multiplicities(case)
  local n = {}
  if case:match("^jetclass") then
    local ds = mpm.data.open("data/jetclass_train.h5")
    local batch = ds:read(1, math.min(B, #ds))
    local off = batch.offsets:tolist()
    for j = 1, #off - 1 do n[j] = off[j + 1] - off[j] end
  else
    local state = 12345
    for j = 1, B do
      state = (state * 1103515245 + 12345) % 2147483648
      n[j] = 10 + state % 55
    end
  end
  return n
end

-- Real multiply-adds x 2 of one forward pass (training step = 3x), from the packed sizes.
local function flops(p, n, train)
  local total = 0
  local D, Dd = p.D, p.Dd
  for _, nj in ipairs(n) do
    local d = train and math.floor(MASK * nj) or 0
    local k = nj - d
    local le = k + p.R
    total = total + 2 * k * 7 * D                                   -- feature embedding
    total = total + p.L * (le * 20 * D * D + 4 * le * le * D)         -- qkv, out, SwiGLU; QK^T, PV
    if train then
      local ld = le + d
      total = total + 2 * le * D * Dd                                 -- decoder input
      total = total + p.Ld * (ld * 20 * Dd * Dd + 4 * ld * ld * Dd)
      total = total + d * 2 * (Dd * 8 + Dd * 128 + 151 * 128 + 2 * 128 * 128 + 128 * 7)  -- ID, CFM heads
    end
  end
  return train and 3 * total or total
end

local function median(t)
  table.sort(t)
  local m = #t
  return m % 2 == 1 and t[(m + 1) / 2] or (t[m / 2] + t[m / 2 + 1]) / 2
end

-- The machine's sgemm on the same threads (2048^3, fastest of 3), the yardstick of GFLOP/s.
-- Each case measures it again in its own process right after its steps: the speed of a shared
-- machine drifts over minutes, and the ratio should compare like with like.
local function sgemm_rate()
  local a, b = mpm.randn(2048, 2048), mpm.randn(2048, 2048)
  a:matmul(b):release()
  return 2 * 2048 ^ 3 / mpm.timeit(function() a:matmul(b):release() end, 3) / 1e9
end

local function run_case(case)
  local preset = case:match("^jetclass%-(%a+)$") or case
  local steps = preset == "paper" and o.steps_paper or o.steps_small
  local warmup = 1
  local n = multiplicities(case)
  mpm.manual_seed(0)
  local total = 0
  for _, v in ipairs(n) do total = total + v end
  local offsets = { 0 }
  for j, v in ipairs(n) do offsets[j + 1] = offsets[j] + v end
  local batch
  if case:match("^jetclass") then
    local ds = mpm.data.open("data/jetclass_train.h5")
    local pre = ds:fit_preprocessing { jets = math.min(#ds, 2000) }
    batch = pre:transform(ds:read(1, #n), 1)
  else
    batch = mpm.data.batch { features = mpm.randn(total, 7), types = mpm.randint(1, 9, { total }),
      offsets = mpm.tensor(offsets), labels = mpm.randint(1, 11, { #n }) }
  end
  mpm.data.mask(batch, MASK, 7)

  local model = mpm.MPM { preset = preset }
  local id, cfm = mpm.tasks.make("id", model), mpm.tasks.make("cfm", model)
  local params = mpm.nn.utils.parameters_of({ model, id, cfm }, "bench")
  local count = 0
  for _, p in ipairs(params) do count = count + p:numel() end
  local opt = mpm.optim.AdamW(params, { lr = 1e-4, weight_decay = 1e-5 })
  local function step()
    local out = model(batch)
    local loss = cfm:loss(out.decoded, out.target) + id:loss(out.decoded, out.target) * ID_WEIGHT
    opt:zero_grad()
    loss:backward()
    mpm.nn.utils.clip_grad_norm_(params, 1.0)
    opt:step()
    return loss:item()
  end
  -- CPU time (all threads) beside wall time: on a shared machine it moves less with the load.
  local times, cpu = {}, {}
  for s = 1, warmup + steps do
    local t0, c0 = mpm.clock(), os.clock()
    mpm.autocast(child_precision, step)
    collectgarbage()
    if s > warmup then times[#times + 1], cpu[#cpu + 1] = mpm.clock() - t0, os.clock() - c0 end
  end
  -- Inference: the backbone embedding of whole jets, no gradients.
  model:eval()
  local bb = model:backbone()
  local features, types, offs = batch.features, batch.types, batch.offsets
  local etimes = {}
  mpm.no_grad(function()
    for s = 1, warmup + o.embed_calls do
      local t0 = mpm.clock()
      local emb = mpm.autocast(child_precision, bb, features, types, offs)
      emb:release()
      if s > warmup then etimes[#etimes + 1] = mpm.clock() - t0 end
    end
  end)
  local memory = mpm.memory()
  print(("RESULT %s@%s step=%.6f cpu=%.6f embed=%.6f params=%d rss=%d sgemm=%.3f"):format(case, child_precision, median(times),
    median(cpu), median(etimes), count, memory.peak_rss, sgemm_rate()))
end

if child then
  run_case(child)
  return
end

-- The driver: each case in a child mpmlua, then in the torch twin, then the table.
local exe = arg[-1] or "mpmlua"
local function sh(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local env = ("OPENBLAS_NUM_THREADS=%d OMP_NUM_THREADS=%d "):format(o.threads, o.threads)
local function parse(text)
  local r = {}
  for line in text:gmatch("RESULT [^\n]+") do
    local case = line:match("^RESULT (%S+)")
    local v = {}
    for key, value in line:gmatch("(%w+)=(%S+)") do v[key] = tonumber(value) end
    r[case] = v
  end
  return r
end
local function capture(command)
  local pipe = io.popen(command)
  local text = pipe:read("a")
  pipe:close()
  return text
end

local config = mpm.config()
local cpu = capture("grep -m1 'model name' /proc/cpuinfo 2>/dev/null"):match(":%s*(.-)%s*$") or "?"
local flags = {}
for _, name in ipairs { "avx2", "avx512", "avx512_bf16" } do if config.cpu[name] then flags[#flags + 1] = name end end
print(("CPU: %s (%s %s), %d threads; BLAS %s %s core %s%s"):format(cpu, config.cpu.vendor, table.concat(flags, " "),
  o.threads, config.blas, config.blas_version, config.blas_core,
  config.forced_core and " (set by mpmlua)" or ""))

print(("sgemm 2048^3: %.0f GFLOP/s (each case measures it again beside its steps)"):format(sgemm_rate()))
print(("products: %s, ISA %s; bf16 products %s"):format(config.onednn, config.onednn_isa,
  config.bf16 and "native" or select(2, mpm.precision_support("bf16"))))

-- Rows are case@precision: every case in every precision.
local names, precisions, cases = {}, {}, {}
for p in o.precisions:gmatch("[^,]+") do precisions[#precisions + 1] = p end
for c in o.cases:gmatch("[^,]+") do
  names[#names + 1] = c
  for _, p in ipairs(precisions) do cases[#cases + 1] = c .. "@" .. p end
end
local ours, theirs = {}, {}
local torch_note
local have_torch = not o.no_torch and os.execute("python3 -c 'import torch' 2>/dev/null")
if not o.no_torch and not have_torch then
  torch_note = "PyTorch is not installed (python3 -m pip install torch==2.13.0+cpu); the torch columns are empty"
end
-- Case by case, mpmlua then torch right after it, so a change in the machine's load between the
-- two halves of the table does not bias every ratio the same way; with --rounds N the pair runs
-- N times and each side keeps its fastest round (a shared machine's load comes and goes).
local function keep_fastest(side, case, r)
  local best = side[case]
  if not r or not best then side[case] = r or best return end
  if r.step < best.step then
    r.embed = math.min(r.embed, best.embed)
    side[case] = r
  else
    best.embed = math.min(best.embed, r.embed)
  end
end
-- A case's precisions alternate within each round, so they see the same load.
for _, name in ipairs(names) do
  for _ = 1, o.rounds do
    for _, precision in ipairs(precisions) do
      local case = name .. "@" .. precision
      local text = capture(("%s%s bench/step.lua --child %s --precision %s --steps-small %d --steps-paper %d --embed-calls %d 2>&1"):format(
        env, sh(exe), name, precision, o.steps_small, o.steps_paper, o.embed_calls))
      local r = parse(text)
      if not r[case] then io.stderr:write(text) error("bench-step: the mpmlua case " .. case .. " failed", 0) end
      io.stderr:write(text:match("RESULT [^\n]+"), "\n")   -- progress, and the numbers if a later case fails
      keep_fastest(ours, case, r[case])
      if have_torch then
        local file = os.tmpname()
        local f = assert(io.open(file, "w"))
        f:write(table.concat(multiplicities(name), ","))
        f:close()
        local preset = name:match("^jetclass%-(%a+)$") or name
        text = capture(("%spython3 bench/step_torch.py --case %s --preset %s --multiplicities %s --threads %d --steps %d --embed-calls %d --precision %s 2>&1"):format(
          env, case, preset, file, o.threads, preset == "paper" and o.steps_paper or o.steps_small, o.embed_calls, precision))
        os.remove(file)
        r = parse(text)
        if r[case] then keep_fastest(theirs, case, r[case]) else io.stderr:write(text) end
        io.stderr:write("torch ", text:match("RESULT [^\n]+") or "failed", "\n")
      end
    end
  end
end

local function fmt(v, f) return v and f:format(v) or "-" end
print(("\n%-20s %9s %9s %8s %9s %9s %8s %8s %8s %7s %11s %11s %7s"):format("case", "params", "torch", "s/step",
  "torch", "steps/s", "RSS MB", "torch", "GFLOP/s", "%sgemm", "embed j/s", "torch", "ratio"))
for _, case in ipairs(cases) do
  local name = case:match("^(.-)@")
  local preset = name:match("^jetclass%-(%a+)$") or name
  local n = multiplicities(name)
  local us, them = ours[case], theirs[case] or {}
  local g = flops(PRESETS[preset], n, true) / us.step / 1e9
  local gt = them.step and flops(PRESETS[preset], n, true) / them.step / 1e9
  local ej, ejt = #n / us.embed, them.embed and #n / them.embed
  print(("%-20s %9d %9s %8.3f %9s %9s %8.0f %8s %8s %7s %11.0f %11s %7s"):format(case, us.params,
    fmt(them.params, "%d"), us.step, fmt(them.step, "%.3f"), them.step and ("%.2fx"):format(them.step / us.step) or "-",
    us.rss / 2 ^ 20, fmt(them.rss and them.rss / 2 ^ 20, "%.0f"),
    ("%.1f"):format(g) .. (gt and ("/%.1f"):format(gt) or ""), ("%.0f%%"):format(100 * g / us.sgemm), ej, fmt(ejt, "%.0f"),
    ejt and ("%.2fx"):format(ej / ejt) or "-"))
end
print("steps/s ratio = torch s/step / mpmlua s/step (above 1: mpmlua faster); GFLOP/s mpmlua/torch on real work;")
print(("embed = backbone embedding of the whole jets, no grad, median of %d calls; ratio above 1: mpmlua faster. Medians of the timed steps."):format(o.embed_calls))
-- Mixed precision against fp32 and against PyTorch's bf16 autocast, case by case.
for _, name in ipairs(names) do
  local half, full, them = ours[name .. "@bf16"], ours[name .. "@fp32"], theirs[name .. "@bf16"]
  if half and full then
    print(("%s bf16: step %.2fx mpmlua fp32 (CPU time %.2fx)%s; embedding %.2fx fp32%s"):format(name, full.step / half.step,
      full.cpu / half.cpu, them and (", %.2fx torch bf16 autocast (CPU time %.2fx)"):format(them.step / half.step, them.cpu / half.cpu) or "",
      full.embed / half.embed, them and (", %.2fx torch bf16"):format(them.embed / half.embed) or ""))
  end
end
if torch_note then print(torch_note) end
