-- The paper's Appendix E figure: a few jets are masked 40% and each pre-trained model
-- reconstructs the dropped constituents; the true and reconstructed distributions of pt,
-- Δη and Δφ are compared per jet, one row of panels per jet. Regression predicts one value
-- per particle (it collapses towards the centre); K-means, flow, CFM, the Lua energy-score
-- task and SSFM sample, so each dropped particle is drawn --samples times.
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

local names = { "log10 pt [GeV]", "Δη", "Δφ" }
local panels = {}
for j = 1, #chosen do
  for k = 1, 3 do panels[(j - 1) * 3 + k] = { title = ("jet %d: %s"):format(j, names[k]), series = {}, bins = 20, density = true } end
end

local truth_done = false
local used = 0
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
