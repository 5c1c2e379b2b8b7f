-- Is my new pre-training objective any good? One command: pre-train with the task under
-- `make paper`'s budget, then score the backbone as the paper does, beside random init and the
-- built-in tasks' backbones of `make paper` (and any given with --against), with standard
-- errors, and say whether it is better, worse or indistinguishable.
--
--   mpmlua examples/scorecard.lua --task examples/tasks/energy_score.lua
--   mpmlua examples/scorecard.lua --task energy_score --against runs/cfm4000/backbone.h5
--
-- The card has two scores per backbone: a frozen linear probe of its embeddings of the test jets
-- (mpm.explore; no fine-tuning, so it reads the representation itself), and the converged
-- fine-tuning of examples/jetclass.lua (early stopping, the protocols' defaults) at the
-- smallest labelled sizes, over seeds. "better" / "worse" means the difference from random init
-- is more than 2 standard errors of the difference. The defaults pre-train 2500 steps of 64 jets
-- (about 10 minutes on two cores), as `make paper` does, and fine-tune at 1000 jets with 2 seeds.
-- Runs live with make paper's (--runs): the same pre-training folder, and fine-tuning runs named
-- by their experiment's digest, so the card reuses make paper's identical runs (random init and
-- the built-in backbones) and a rerun reuses everything. Writes OUT/card.json and OUT/card.csv.
local cli, files, stats, tabular = mpm.cli, mpm.files, mpm.stats, mpm.tabular

local o = cli.options(arg, {
  { "task", "", "string", "the task to judge: a Lua task file, a name in examples/tasks/, or a built-in task" },
  { "steps", 2500, "integer", "pre-training steps: the card's fixed budget (make paper's)" },
  { "batch-size", 64, "integer", "pre-training jets per step" },
  { "preset", "small", "string", "model size (the random-init baseline has the same)" },
  { "against", "", "string", "comma-separated backbone files to score beside it (besides make paper's at the same budget)" },
  { "runs", "runs/paper", "string", "where the pre-training and fine-tuning runs go, shared with make paper" },
  { "sizes", "1000", "string", "labelled JetClass-like jets to fine-tune on" },
  { "seeds", "1,2", "string", "fine-tuning seeds" },
  { "epochs", 100, "integer", "the fine-tuning budget in epochs (early stopping ends sooner)" },
  { "probe-jets", 1000, "integer", "test jets the frozen linear probe embeds" },
  { "out", "runs/scorecard", "string", "where the card goes" },
  { "quiet", false, "flag", "no progress output" },
}, "mpmlua examples/scorecard.lua --task TASK [options]")
if o == nil then return end
if o.task == "" then error("scorecard: --task is required (a Lua task file such as examples/tasks/energy_score.lua)", 0) end

local data = {}
for _, name in ipairs { "train", "val", "test" } do data[name] = mpm.data.bundled(("data/jetclass_%s.h5"):format(name), arg[0]) end

-- 1. Pre-training under the stated budget, in make paper's folder for it (a finished run is
-- reused as it is); the built-in backbones already there stand beside it.
local name = o.task:match("([^/]+)%.lua$") or o.task
local folder = mpm.pretrain.folder(o.runs, { steps = o.steps, batch_size = o.batch_size, preset = o.preset, data = data.train })
local run_dir = files.join(folder, name)
local pretrained = mpm.pretrain.run { task = o.task, steps = o.steps, batch_size = o.batch_size, preset = o.preset,
  data = data.train, val = data.val, out = run_dir, quiet = o.quiet,
  resume = files.exists(files.join(run_dir, "checkpoint.h5")) }
local backbones = { { name = name, spec = pretrained.backbone } }
for _, built_in in ipairs(files.list(folder)) do
  local path = files.join(folder, built_in .. "/backbone.h5")
  if built_in ~= name and files.exists(path) then backbones[#backbones + 1] = { name = built_in, spec = path } end
end
for _, path in ipairs(o.against ~= "" and mpm.downstream.list(o.against, nil, "against") or {}) do
  backbones[#backbones + 1] = { name = files.basename(files.dirname(path)), spec = path }
end
backbones[#backbones + 1] = { name = "random", spec = "random" }

-- 2. The frozen probe: every backbone embeds the same test jets with the task's preprocessing.
local _, record = mpm.load_backbone(pretrained.backbone)
for _, b in ipairs(backbones) do
  local E = mpm.explore.embed(b.spec == "random" and mpm.backbone.from_spec("random", { preset = o.preset }) or b.spec,
    data.test, { jets = o.probe_jets, preprocessing = record.preprocessing, progress = "none" })
  local probe = E:probe()
  b.probe, b.probe_se = probe.accuracy, math.sqrt(probe.accuracy * (1 - probe.accuracy) / probe.test)
end

-- 3. Converged fine-tuning over sizes and seeds, each run named by its experiment's digest.
local sizes = mpm.downstream.list(o.sizes, "integer", "sizes")
local seeds = mpm.downstream.list(o.seeds, "integer", "seeds")
for _, b in ipairs(backbones) do
  b.scores = {}
  for _, size in ipairs(sizes) do
    local values = {}
    for _, seed in ipairs(seeds) do
      local c = { backbone = b.spec, train_jets = size, seed = seed, epochs = o.epochs, preset = o.preset, quiet = true,
        data = data.train, val = data.val, test = data.test, fit_data = data.train, classes = 10,
        class_names = table.concat(mpm.data.JETCLASS_CLASSES, ","), kind = "jetclass", protocol = "jetclass" }
      local _, digest = mpm.downstream.experiment(c)
      -- Named as examples/jetclass.lua --sweep names its runs, so make paper's identical run is this one.
      c.out = files.join(o.runs, ("jetclass/%s_n%d_s%d_%s"):format(b.name:gsub("[^%w]", "_"), size, seed, digest:sub(1, 10)))
      if not o.quiet then print(("scorecard: fine-tuning %s on %d jets, seed %d"):format(b.name, size, seed)) end
      values[#values + 1] = mpm.downstream.classify(c).metrics.accuracy
    end
    b.scores[size] = stats.summary(values)
  end
end

-- 4. The card: each score beside random init's, with the verdict.
local random = backbones[#backbones]
local function verdict(difference, se)
  if se == 0 then return "one seed: no verdict" end
  if difference > 2 * se then return "better" elseif difference < -2 * se then return "worse" end
  return "indistinguishable"
end
local rows, lines = {}, { ("scorecard: %s pre-trained %d steps of %d jets (%s preset); JetClass-like accuracy, chance 0.10"):format(
  name, o.steps, o.batch_size, o.preset) }
for _, b in ipairs(backbones) do
  local probe_difference = b.probe - random.probe
  local row = { backbone = b.name, probe = b.probe, probe_se = b.probe_se }
  local text = ("  %-14s probe %.3f +- %.3f"):format(b.name, b.probe, b.probe_se)
  if b ~= random then
    local se = math.sqrt(b.probe_se ^ 2 + random.probe_se ^ 2)
    text = text .. (" (%+.3f, %s)"):format(probe_difference, verdict(probe_difference, se))
  end
  for _, size in ipairs(sizes) do
    local s, r = b.scores[size], random.scores[size]
    row["n" .. size] = s.mean
    row["n" .. size .. "_se"] = s.se
    text = text .. ("; %d jets %.3f +- %.3f"):format(size, s.mean, s.se)
    if b ~= random then
      local difference, se = s.mean - r.mean, math.sqrt(s.se ^ 2 + r.se ^ 2)
      row["n" .. size .. "_vs_random"] = difference
      text = text .. (" (%+.3f, %s)"):format(difference, verdict(difference, se))
    end
  end
  rows[#rows + 1] = row
  lines[#lines + 1] = text
end
local columns = { "backbone", "probe", "probe_se" }
for _, size in ipairs(sizes) do
  for _, suffix in ipairs { "", "_se", "_vs_random" } do columns[#columns + 1] = "n" .. size .. suffix end
end
files.mkdir(o.out)
tabular.write_csv(files.join(o.out, "card.csv"), columns, rows)
files.write(files.join(o.out, "card.json"), mpm.json.encode { task = name, steps = o.steps, batch_size = o.batch_size,
  preset = o.preset, sizes = sizes, seeds = seeds, rows = rows, backbone = pretrained.backbone })
lines[#lines + 1] = ("  (+- standard errors: the probe's from its test split, fine-tuning's over %d seeds; better / worse: more than 2 standard errors of the difference; %s)"):format(
  #seeds, files.join(o.out, "card.csv"))
print(table.concat(lines, "\n"))
return rows
