-- The paper's Appendix E figure: a few jets are masked 40% and each pre-trained model
-- reconstructs the dropped constituents; the true and reconstructed distributions of pt,
-- Δη and Δφ are compared per jet, one row of panels per jet. Regression predicts one value
-- per particle (it collapses towards the centre); K-means, flow, CFM, the Lua energy-score
-- task and SSFM sample, so each dropped particle is drawn --samples times.
-- Each run is then scored on --metric-jets more jets by the field's generative metrics
-- (mpm.metrics.generative: W1 of each dropped particle's features, W1 of the completed jets'
-- mass, FPD and KPD of their energy-flow polynomials), each beside its truth-vs-truth floor,
-- so "regression collapses to the mean, the generative tasks do not" is a number; they are
-- written beside the figure (OUT with .json) and returned.
--   mpmlua examples/pretrain.lua --task reg    --out runs/reg
--   mpmlua examples/pretrain.lua --task kmeans --out runs/kmeans
--   mpmlua examples/pretrain.lua --task flow   --out runs/flow
--   mpmlua examples/train_cfm.lua              (runs/cfm)
--   mpmlua examples/reconstruct.lua --runs runs/reg,runs/kmeans,runs/flow,runs/cfm --out reconstruction.png
-- Runs that are missing are skipped with a note; at least one is needed.
local spec = {
  { "runs", "runs/reg,runs/kmeans,runs/flow,runs/cfm", "string", "comma-separated pre-training run directories" },
  { "data", "data/jetclass_test.h5", "string", "jets to reconstruct" },
  { "jets", 3, "integer", "number of jets (one row of panels each)" },
  { "min-particles", 40, "integer", "only jets with at least this many constituents" },
  { "mask", 0.4, "number", "fraction of each jet dropped" },
  { "samples", 20, "integer", "draws per dropped particle for the generative tasks" },
  { "steps", 50, "integer", "ODE steps for flow-matching samples" },
  { "seed", 7, "integer", "seed of the jet choice, masking and sampling" },
  { "metric-jets", 1000, "integer", "jets reconstructed (one draw each) for the generative metrics (0: none)" },
  { "out", "reconstruction.png", "string", "output PNG" },
}
local o = mpm.cli.options(arg, spec, "mpmlua examples/reconstruct.lua [options]")
if o == nil then return end

-- The jets: the first --jets jets of the file (in a seeded random order) with enough constituents.
mpm.manual_seed(o.seed)
local ds = mpm.data.open(o.data)
local order = mpm.randperm(#ds):tolist()
local chosen = {}
for _, i in ipairs(order) do
  local b = ds:read(i, i)
  if b.num_particles >= o.min_particles then chosen[#chosen + 1] = i end
  if #chosen == o.jets then break end
end
if #chosen == 0 then error("reconstruct: no jet in " .. o.data .. " has " .. o.min_particles .. " constituents", 0) end

-- Physical-unit values of pt (log10), deta, dphi of preprocessed particles (their columns
-- from the schema, mpm.data.FEATURES).
local column = {}
for i, name in ipairs(mpm.data.FEATURES) do column[name] = i end
local function physical(pre, features, types)
  local x = pre:inverse(features, types)
  return { (x:select(2, column.pt):clamp(1e-3, 1e9)):log() / math.log(10), x:select(2, column.deta), x:select(2, column.dphi) }
end

-- The jets of the generative metrics: the first --metric-jets of the same order, whatever
-- their size (the metrics describe the whole sample, not the figure's large jets).
local metric_jets = {}
for i = 1, math.min(o.metric_jets, #order) do metric_jets[i] = order[i] end

-- One draw of the dropped particles of the metric jets, scored against the truth: the true
-- jets and the same jets completed with the reconstructed particles, both in physical units,
-- W1P over the dropped rows only (the kept ones are the same on both sides).
local function generative_metrics(model, task, pre)
  local batch = pre:transform(ds:read(metric_jets), o.seed)
  mpm.data.mask(batch, o.mask, o.seed)
  local out = mpm.no_grad(function() return model(batch) end)
  local target = out.target
  local input = task.input == "encoded" and out.encoded or out.decoded
  local s = mpm.no_grad(function()
    return task:sample(input, target, { steps = o.steps, generator = mpm.Generator(o.seed) })
  end)
  local truth = pre:inverse(target.jet_features, target.jet_types)
  local reconstructed = pre:inverse(s.features, s.types or target.types)
  local completed = truth:index_add(1, target.rows, reconstructed - truth:index_select(1, target.rows))
  return mpm.metrics.generative {
    real = { features = truth, offsets = target.jet_offsets, particles = target.rows },
    generated = { features = completed, offsets = target.jet_offsets, particles = target.rows },
  }
end

local names = { "log10 pt [GeV]", "Δη", "Δφ" }
local panels = {}
for j = 1, #chosen do
  for k = 1, 3 do panels[(j - 1) * 3 + k] = { title = ("jet %d: %s"):format(j, names[k]), series = {}, bins = 20, density = true } end
end

local truth_done = false
local used = 0
local scored = {}
for run in o.runs:gmatch("[^,]+") do
  if not (mpm.files.exists(run .. "/run.h5") and mpm.files.exists(run .. "/checkpoint.h5")) then
    print(("reconstruct: skipping %s (no finished run; train one with examples/pretrain.lua --out %s)"):format(run, run))
  else
    local model, tasks, pre, record = mpm.pretrain.load_run(run)
    local task = tasks[1]
    if not task.sample then
      print(("reconstruct: skipping %s (task %s cannot generate particles)"):format(run, record.task))
    else
      used = used + 1
      -- The same masking for every run: a fixed seed for the split of the chosen jets.
      local batch = pre:transform(ds:read(chosen), o.seed)
      mpm.data.mask(batch, o.mask, o.seed)
      local out = mpm.no_grad(function() return model(batch) end)
      local target = out.target
      local input = task.input == "encoded" and out.encoded or out.decoded
      local draws = record.task == "reg" and 1 or o.samples
      local offsets = target.offsets:tolist()
      local gen = mpm.Generator(o.seed)
      local per_jet = {}
      for j = 1, #chosen do per_jet[j] = { {}, {}, {} } end
      for _ = 1, draws do
        local s = mpm.no_grad(function() return task:sample(input, target, { steps = o.steps, generator = gen }) end)
        local types = s.types or target.types
        local values = physical(pre, s.features, types)
        for k = 1, 3 do
          local v = values[k]:tolist()
          for j = 1, #chosen do
            for r = offsets[j] + 1, offsets[j + 1] do table.insert(per_jet[j][k], v[r]) end
          end
        end
      end
      if not truth_done then
        local values = physical(pre, target.features, target.types)
        for k = 1, 3 do
          local v = values[k]:tolist()
          for j = 1, #chosen do
            local t = {}
            for r = offsets[j] + 1, offsets[j + 1] do t[#t + 1] = v[r] end
            table.insert(panels[(j - 1) * 3 + k].series, 1, { values = t, title = "true" })
          end
        end
        truth_done = true
      end
      local label = record.task .. (draws > 1 and "" or " (mean)")
      for j = 1, #chosen do
        for k = 1, 3 do table.insert(panels[(j - 1) * 3 + k].series, { values = per_jet[j][k], title = label }) end
      end
      print(("reconstruct: %s (%s) reconstructed %d dropped particles x %d draws"):format(run, record.task, target.count, draws))
      if #metric_jets >= 2 then scored[#scored + 1] = { task = record.task, run = run, report = generative_metrics(model, task, pre) } end
    end
  end
end
if used == 0 then error("reconstruct: none of the runs (" .. o.runs .. ") could be used", 0) end

-- Shared x ranges per column so the rows compare.
local ranges = { { -1, 3 }, { -0.8, 0.8 }, { -0.8, 0.8 } }
for i, p in ipairs(panels) do p.range = ranges[(i - 1) % 3 + 1] end
local path, why = mpm.plot.histograms { out = o.out, panels = panels, columns = 3,
  title = ("dropped constituents (mask %.0f%%): true vs reconstructed"):format(100 * o.mask) }
if path then print("reconstruct: figure written to " .. path) else print("reconstruct: " .. tostring(why)) end

-- The generative metrics, one row per run. W1 values carry, in brackets, how many times their
-- truth-vs-truth floor they are (1x: as close to the truth as other real jets are); FPD and
-- KPD are estimates with errors (KPD is unbiased, so about 0, even below, at the floor).
-- Every run scores the same jets, so the floor row holds for all.
if #scored > 0 then
  local function w1(get) return function(r) return ("%.3g"):format(get(r)), get(r) end end
  local function estimate(key)
    return function(r) return ("%.2g +- %.1g"):format(r[key], r[key .. "_error"]) end
  end
  local columns = {
    { "W1P pt", w1(function(r) return r.w1p.pt end) }, { "W1P deta", w1(function(r) return r.w1p.deta end) },
    { "W1P dphi", w1(function(r) return r.w1p.dphi end) }, { "W1M", w1(function(r) return r.w1m end) },
    { "FPD", estimate("fpd") }, { "KPD", estimate("kpd") },
  }
  local first = scored[1].report
  print(("\nreconstruct: generative metrics of %d jets (%d reference, %d compared; %d and %d dropped particles), lower is better"):format(
    #metric_jets, first.jets.reference, first.jets.generated, first.particles.reference, first.particles.generated))
  local function row(name, cells) print(("%-16s"):format(name) .. table.concat(cells)) end
  local header, floor = {}, {}
  for i, c in ipairs(columns) do
    header[i] = ("%-19s"):format(c[1])
    floor[i] = ("%-19s"):format((c[2](first.floor)))
  end
  row("", header)
  row("truth (floor)", floor)
  for _, entry in ipairs(scored) do
    local cells = {}
    for i, c in ipairs(columns) do
      local text, value = c[2](entry.report)
      local _, at_floor = c[2](entry.report.floor)
      if value and at_floor > 0 then text = ("%s (%.1fx)"):format(text, value / at_floor) end
      cells[i] = ("%-19s"):format(text)
    end
    row(entry.task, cells)
  end
  print("W1P pt and W1M in GeV; FPD and KPD of the jets' energy-flow polynomials (d <= 2)")
end

-- The numbers as a file beside the figure (OUT with .json), returned as well.
local numbers = { data = o.data, mask = o.mask, metric_jets = #metric_jets, figure = path or nil, runs = {} }
for _, entry in ipairs(scored) do numbers.runs[#numbers.runs + 1] = { task = entry.task, run = entry.run, metrics = entry.report } end
if #scored > 0 then
  numbers.floor = scored[1].report.floor
  local json_path = o.out:gsub("%.png$", "") .. ".json"
  mpm.files.mkdir(mpm.files.dirname(json_path))
  mpm.files.write(json_path, mpm.json.encode(numbers))
  print("reconstruct: metrics written to " .. json_path)
end
return numbers
