-- The paper's claims, measured on this machine: `make paper` (or BUDGET=full) pre-trains the
-- backbones, runs the downstream protocols against random init over seeds, scores the
-- reconstructions, and writes report/README.md: each figure with its numbers (mean and standard
-- error over seeds), the paper's claim beside it, and whether it holds here.
--
--   mpmlua examples/paper.lua --budget quick     (14 minutes on 2 cores as two MPI processes)
--   mpmlua examples/paper.lua --budget full      (about 2.9 hours on 2 cores, by the estimates below)
--   mpirun -n 2 --bind-to core mpmlua examples/paper.lua   (what `make paper` runs: the sweeps
--     deal out their runs, pre-training is data-parallel, rank 0 reports)
--
-- Every stage keeps its runs (under --runs): an interrupted job run again resumes the
-- pre-training where its checkpoint left it and skips every finished fine-tuning run (each is
-- named by its experiment's digest, so a changed setting is a new run). The report is rewritten
-- from the runs at the end of every job. Options after --budget change the budget's choices
-- (used by the test at tiny sizes); --help lists them.
local cli, files, stats, tabular, json = mpm.cli, mpm.files, mpm.stats, mpm.tabular, mpm.json

-- What each budget runs, and the minutes each stage is expected to take on two idle cores as two
-- MPI processes (make paper): the estimate of the time left. Measured on an idle AMD EPYC Zen 3
-- (quick: 14 minutes; full: pre-training 6-9 minutes a task, a JetClass-like seed 39 minutes,
-- CWoLa 6, BTag-like 12, vertexing 6, tracks 5). Both budgets keep their runs in one place
-- (--runs), so the full budget reuses the quick one's identical runs.
local BUDGETS = {
  quick = {
    tasks = "cfm", steps = 2500, batch_size = 64, reconstruct_jets = 500,
    protocols = { jetclass = { sizes = "1000", seeds = "1,2" } },
    minutes = { pretrain = 6.5, jetclass = 7.5, reconstruct = 0.2 },
  },
  full = {
    tasks = "reg,kmeans,flow,cfm", steps = 2500, batch_size = 64, reconstruct_jets = 1000,
    protocols = {
      jetclass = { sizes = "1000,3000", seeds = "1,2,3" },
      cwola = { sizes = "300", seeds = "1,2,3" },
      btag = { sizes = "2000", seeds = "1,2,3" },
      vertexing = { sizes = "2000", seeds = "1,2" },
      tracks = { sizes = "2000", seeds = "1,2" },
    },
    minutes = { pretrain = 7, jetclass = 117, cwola = 6.5, btag = 12, vertexing = 6, tracks = 5, reconstruct = 0.5 },
  },
}

-- The protocols in the paper's order: their script, figure, metric and the paper's claim.
local PROTOCOLS = {
  { name = "jetclass", figure = "3a", title = "JetClass-like classification: data efficiency",
    metric = "accuracy", label = "accuracy", size = "train_jets", size_label = "labelled jets",
    claim = "At each training set size, the performance of all pre-trained backbones is superior to the randomly "
      .. "initialized network. However, this boost diminishes as the number of jets increases.", shrinks = true },
  { name = "cwola", figure = "3b", title = "CWoLa (QCD vs TTBar, weak supervision)",
    metric = "sic", label = "SIC at fpr 0.01", size = "n_signal", size_label = "signal jets",
    claim = "The pre-trained backbones considerably outperform the benchmark.",
    caveat = "On the bundled files the test set holds about 100 background jets, so a false-positive rate of 0.01 is "
      .. "one jet and the SIC is coarse; `make data-cwola` generates the paper's sizes (docs/downstream.md)." },
  { name = "btag", figure = "4a", title = "BTag-like flavour, out of distribution",
    metric = "accuracy", label = "accuracy", size = "train_jets", size_label = "labelled jets",
    claim = "All pre-trained backbones outperform the benchmark initialization, indicating that the learned mappings "
      .. "are generalizable beyond JetClass." },
  { name = "vertexing", figure = "4b", title = "Secondary-vertex finding",
    metric = "ari", label = "adjusted Rand index", size = "train_jets", size_label = "labelled jets",
    claim = "All backbones perform better than the benchmark." },
  { name = "tracks", figure = "4c", title = "Heavy-track identification",
    metric = "balanced_accuracy", label = "balanced accuracy", size = "train_jets", size_label = "labelled jets",
    claim = "The pre-trained backbones all outperform the baselines." },
}

local o = cli.options(arg, {
  { "budget", "quick", "string", "quick (14 minutes on 2 cores) or full (about 2.9 hours)" },
  { "report", "report", "string", "where the report goes (README.md, results.json, figures)" },
  { "runs", "runs/paper", "string", "where the runs go (both budgets share them: an identical run is reused)" },
  { "tasks", "", "string", "pre-training tasks, comma-separated (default: the budget's)" },
  { "steps", 0, "integer", "pre-training steps (0: the budget's)" },
  { "batch-size", 0, "integer", "pre-training jets per step (0: the budget's)" },
  { "preset", "small", "string", "model size of every backbone and of random init" },
  { "pretrain-data", "", "string", "pre-training jets (default: the bundled data/jetclass_train.h5; e.g. more from `make data`)" },
  { "protocols", "", "string", "protocols to run, comma-separated (default: the budget's; none: only pre-training and reconstruction)" },
  { "sizes", "", "string", "the sizes of every protocol run (default: each protocol's in the budget)" },
  { "seeds", "", "string", "the seeds of every protocol run (default: the budget's)" },
  { "epochs", 0, "integer", "fine-tuning budget in epochs of every protocol (0: each protocol's default)" },
  { "test-jets", 0, "integer", "test jets of every protocol run (0: all)" },
  { "reconstruct-jets", -1, "integer", "jets the generative metrics score (-1: the budget's; 0: no reconstruction)" },
  { "report-only", false, "flag", "write the report from the runs made so far (by a job still running, or stopped), running nothing" },
  { "quiet", false, "flag", "only the stage lines" },
}, "mpmlua examples/paper.lua [--budget quick|full] [options]")
if o == nil then return end
local budget = BUDGETS[o.budget]
if not budget then error(("paper: --budget %s: must be quick or full"):format(o.budget), 0) end
local list = mpm.downstream.list
-- Under mpirun (make paper) the ranks share the sweeps' runs and pre-train data-parallel.
local dist = mpm.distributed
local main = dist.is_main()
local examples = files.dirname(arg[0])
local runs = o.runs
local tasks = list(o.tasks ~= "" and o.tasks or budget.tasks, nil, "tasks")
local steps = o.steps > 0 and o.steps or budget.steps
local batch_size = o.batch_size > 0 and o.batch_size or budget.batch_size
local reconstruct_jets = o.reconstruct_jets >= 0 and o.reconstruct_jets or budget.reconstruct_jets
local chosen = {}
if o.protocols == "none" then
elseif o.protocols ~= "" then
  for _, name in ipairs(list(o.protocols, nil, "protocols")) do chosen[name] = budget.protocols[name] or { sizes = "", seeds = "1,2,3" } end
else
  chosen = budget.protocols
end
for name in pairs(chosen) do
  local known = false
  for _, p in ipairs(PROTOCOLS) do known = known or p.name == name end
  if not known then error(("paper: --protocols: unknown protocol '%s' (jetclass, cwola, btag, vertexing, tracks)"):format(name), 0) end
end
-- Each chosen protocol's sizes and seeds: the command line's, else the budget's.
local asked = {}
for name, c in pairs(chosen) do
  asked[name] = { sizes = o.sizes ~= "" and o.sizes or c.sizes, seeds = o.seeds ~= "" and o.seeds or c.seeds }
end
chosen = asked
files.mkdir(runs)
files.mkdir(o.report)

-- The stages of this job in order, with their estimated minutes; the journal (RUNS/paper.json)
-- adds up each stage's time over the jobs that ran it, so the report can say what it all cost.
local stages = {}
for _, task in ipairs(tasks) do stages[#stages + 1] = { name = "pretrain " .. task, minutes = budget.minutes.pretrain or 10 } end
-- A protocol's estimate scales with the work asked against the budget's own choice: the seeds,
-- and the sum of the sizes (a run's time grows about as its training jets), so --seeds 3 alone is
-- a third.
local function jets(sizes)
  local sum = 0
  for _, n in ipairs(list(sizes, "integer", "sizes")) do sum = sum + n end
  return sum
end
for _, p in ipairs(PROTOCOLS) do
  local c, own = chosen[p.name], budget.protocols[p.name]
  if c then
    local minutes = budget.minutes[p.name] or 10
    if own then
      minutes = minutes * #list(c.seeds, "integer", "seeds") / #list(own.seeds, "integer", "seeds")
      if c.sizes ~= "" and own.sizes ~= "" then minutes = minutes * jets(c.sizes) / jets(own.sizes) end
    end
    stages[#stages + 1] = { name = p.name, minutes = minutes }
  end
end
if reconstruct_jets > 0 then stages[#stages + 1] = { name = "reconstruct", minutes = budget.minutes.reconstruct or 1 } end
local journal_path = files.join(runs, "paper.json")
local journal = files.exists(journal_path) and mpm.downstream.read_result(journal_path) or { stages = {} }
local started, spent, estimated_done = mpm.clock(), 0, 0

-- Runs one stage: says where the job stands and about how long is left (the estimates scaled by
-- how this job has kept to them so far), then times the stage into the journal.
local function stage(index, f)
  local s = stages[index]
  local left = 0
  for i = index, #stages do left = left + stages[i].minutes end
  if estimated_done > 0 and spent > 60 then left = left * spent / (estimated_done * 60) end
  if main then
    print(("paper [%d/%d] %s: %.0f min elapsed, about %.0f min left"):format(index, #stages, s.name,
      (mpm.clock() - started) / 60, left))
  end
  local t0 = mpm.clock()
  local result = f()
  local seconds = mpm.clock() - t0
  -- A stage found done (its runs reused) says nothing about this machine's pace.
  if seconds > 6 * s.minutes then spent, estimated_done = spent + seconds, estimated_done + s.minutes end
  journal.stages[s.name] = journal.stages[s.name] or {}
  journal.stages[s.name].seconds = (journal.stages[s.name].seconds or 0) + seconds
  if main then files.write(journal_path, json.encode(journal)) end
  return result
end

-- 1. Pre-training: each task with particle ID, the same budget and seed; a run in RUNS resumes.
local data = {}
for _, name in ipairs { "train", "val", "test" } do data[name] = mpm.data.bundled(("data/jetclass_%s.h5"):format(name), arg[0]) end
local pretrain_data = o.pretrain_data ~= "" and o.pretrain_data or data.train
local backbones, index = {}, 0
for _, task in ipairs(tasks) do
  index = index + 1
  local dir = files.join(mpm.pretrain.folder(runs, { steps = steps, batch_size = batch_size, preset = o.preset,
    data = pretrain_data }), task)
  if not o.report_only then
    stage(index, function()
      return mpm.pretrain.run { task = task, steps = steps, batch_size = batch_size, preset = o.preset,
        data = pretrain_data, val = data.val, out = dir, quiet = o.quiet, resume = files.exists(files.join(dir, "checkpoint.h5")) }
    end)
    -- Rank 0 writes the backbone; every rank must see it before the sweeps list their backbones.
    dist.barrier()
  end
  if files.exists(files.join(dir, "backbone.h5")) then
    local _, metrics = tabular.read_csv(files.join(dir, "metrics.csv"))
    local val
    for _, row in ipairs(metrics) do val = row.val_loss or val end
    backbones[#backbones + 1] = { task = task, dir = dir, path = files.join(dir, "backbone.h5"), val_loss = val,
      steps = metrics[#metrics].step }
  end
end

-- 2. The protocols: each a sweep of its script over the backbones and random init, read back
-- from its sweep.csv (rewritten after every run, so a stopped sweep reports the runs it finished).
local paths = {}
for i, b in ipairs(backbones) do paths[i] = b.path end
paths[#paths + 1] = "random"
local results = {}
for _, p in ipairs(PROTOCOLS) do
  local c = chosen[p.name]
  if c then
    index = index + 1
    local seeds, sizes = c.seeds, c.sizes
    local args = { "--sweep", "--backbones", table.concat(paths, ","), "--seeds", seeds, "--preset", o.preset,
      "--out", files.join(runs, p.name) }
    if sizes ~= "" then args[#args + 1], args[#args + 2] = "--sizes", sizes end
    if o.epochs > 0 then args[#args + 1], args[#args + 2] = "--epochs", tostring(o.epochs) end
    if o.test_jets > 0 then args[#args + 1], args[#args + 2] = "--test-jets", tostring(o.test_jets) end
    if o.quiet then args[#args + 1] = "--quiet" end
    if not o.report_only then stage(index, function() return cli.run(files.join(examples, p.name .. ".lua"), table.unpack(args)) end) end
    local sweep_path = files.join(runs, p.name .. "/sweep.csv")
    if main and files.exists(sweep_path) then
      local _, rows = tabular.read_csv(sweep_path)
      local planned = #list(seeds, "integer", "seeds") * #paths * (sizes ~= "" and #list(sizes, "integer", "sizes") or 1)
      results[p.name] = { rows = rows, planned = planned, summary = mpm.downstream.summarise(rows, p.size, p.metric) }
    end
  end
end

-- Under mpirun the other ranks are done: rank 0 alone reconstructs and reports.
if not main then return end

-- 3. The reconstructions of every backbone that samples, scored by the generative metrics, in a
-- folder named by the backbones' content and the number of jets: done once for each.
local reconstruction
if reconstruct_jets > 0 then
  index = index + 1
  local dirs, digests = {}, {}
  for i, b in ipairs(backbones) do dirs[i], digests[i] = b.dir, files.digest(b.path) end
  local key = files.digest_text(json.encode { digests = digests, jets = reconstruct_jets, data = files.digest(data.test) })
  local figure = files.join(runs, "reconstruct/" .. key:sub(1, 10) .. "/appendix_e.png")
  local numbers = figure:gsub("%.png$", ".json")
  if not files.exists(numbers) and not o.report_only and #dirs > 0 then
    stage(index, function()
      cli.run(files.join(examples, "reconstruct.lua"), "--runs", table.concat(dirs, ","),
        "--metric-jets", tostring(reconstruct_jets), "--data", data.test, "--out", figure)
    end)
  end
  if files.exists(numbers) then
    reconstruction = mpm.downstream.read_result(numbers)
    reconstruction.figure = figure
  end
end

-- 4. The report: every number read from the runs' result files (each sweep's sweep.csv, as
-- mean and standard error over seeds), the paper's claim beside it and the verdict by one rule:
-- a backbone beats random init where its mean is higher by more than 3 standard errors of the
-- difference.
local function verdict(rows)
  local beats, worse, compared, one_seed = 0, 0, 0, false
  for _, r in ipairs(rows) do
    if r.vs_random then
      compared = compared + 1
      local se = r.vs_random_se
      one_seed = one_seed or se == nil
      if se and se > 0 and r.vs_random > 3 * se then beats = beats + 1 end
      if se and se > 0 and r.vs_random < -3 * se then worse = worse + 1 end
    end
  end
  if compared == 0 then return "not measured: no pre-trained backbone was compared", "not measured" end
  if one_seed then return "no verdict yet: a backbone or random init has one seed, which gives no standard error", "no verdict" end
  local text = ("%d of %d comparisons (backbone x size) beat random init by more than 3 standard errors"):format(beats, compared)
  if worse > 0 then text = text .. ("; %d are worse by more than 3"):format(worse) end
  if beats == compared then return "**holds**: " .. text, "holds" end
  if beats > 0 then return "**holds in part**: " .. text, "holds in part" end
  return "**not shown here**: " .. text, "not shown"
end

-- Figure 3a's second claim: the gain, averaged over the pre-trained backbones, at the smallest
-- and the largest size.
local function shrinking(rows, size)
  local gains = {}
  for _, r in ipairs(rows) do
    if r.vs_random then
      gains[r[size]] = gains[r[size]] or {}
      table.insert(gains[r[size]], r.vs_random)
    end
  end
  local sizes = {}
  for n in pairs(gains) do sizes[#sizes + 1] = n end
  table.sort(sizes)
  if #sizes < 2 then return "the shrinking of the gain needs two sizes or more; this budget ran one" end
  local first, last = stats.summary(gains[sizes[1]]).mean, stats.summary(gains[sizes[#sizes]]).mean
  return ("the mean gain is %+.3f at %d and %+.3f at %d labelled jets: %s"):format(first, sizes[1], last, sizes[#sizes],
    last < first and "it shrinks, as in the paper" or "it does not shrink here")
end

-- How the runs of a sweep ended: converged (stopped early) or at the end of their budget.
local function convergence(sweep_rows)
  local early, total, budgeted = 0, 0, {}
  for _, row in ipairs(sweep_rows) do
    local result = mpm.downstream.read_result(files.join(row.run, "result.json"))
    total = total + 1
    if result.training.stopped_early then early = early + 1
    elseif result.options.patience then budgeted[#budgeted + 1] = files.join(row.run, "curve.png") end
  end
  local text = ("%d of %d runs stopped early, their validation loss past its minimum"):format(early, total)
  if #budgeted > 0 then
    text = text .. ("; %d ran their whole budget (curves: %s%s)"):format(#budgeted, table.concat(budgeted, ", ", 1, math.min(3, #budgeted)),
      #budgeted > 3 and ", ..." or "")
  elseif early == 0 then
    text = "a fixed budget without early stopping (the reference's protocol)"
  end
  return text
end

-- A figure copied into the report; nil where the sweep drew none.
local function copy(from, to)
  local source = io.open(from, "rb")
  if not source then return nil end
  files.write(to, source:read("a"))
  source:close()
  return to
end

local cpu = "this machine"
for line in io.lines("/proc/cpuinfo") do
  local model = line:match("^model name%s*:%s*(.-)%s*$")
  if model then cpu = model; break end
end
local config = mpm.config()
local total_seconds = 0
for _, s in pairs(journal.stages) do total_seconds = total_seconds + (s.seconds or 0) end
local report = { budget = o.budget, date = os.date("!%Y-%m-%d %H:%M UTC"), mpmlua = mpm.version,
  machine = { cpu = cpu, processes = dist.size(), threads = config.kernel_threads, avx512_bf16 = config.cpu.avx512_bf16 },
  settings = { tasks = tasks, steps = steps, batch_size = batch_size, preset = o.preset, runs = runs },
  backbones = backbones, protocols = {}, stage_seconds = {}, reconstruction = reconstruction }
for name, s in pairs(journal.stages) do report.stage_seconds[name] = s.seconds end

local lines = {
  "# MPMv2's claims at CPU scale: the `make paper` report", "",
  ("Budget **%s** (`mpmlua %s %s`), written %s by mpmlua %s on %s (%s). "
    .. "Time of the stages that finished, summed over the jobs that ran them: %.0f minutes."):format(o.budget, arg[0],
    table.concat(arg, " "):gsub("%s*%-%-report%-only", ""):gsub("%s*%-%-report%s+%S+", ""),
    report.date, mpm.version, cpu, dist.size() > 1 and ("%d processes of %d thread%s"):format(dist.size(),
      config.kernel_threads, config.kernel_threads > 1 and "s" or "") or ("%d threads"):format(config.kernel_threads),
    total_seconds / 60), "",
  "Every number is read from the runs' result files under `" .. runs .. "`. Settings are the protocols' defaults "
    .. "(docs/downstream.md), fixed before any test number was seen; validation data decide early stopping, the "
    .. "test sets only score. ± is the standard error of the mean over seeds; a backbone *beats* random init where "
    .. "its mean is higher by more than 3 standard errors of the difference.", "",
  "## Backbones", "",
  ("Pre-trained on the JetClass-like jets of `%s` (%s preset, particle ID paired with each task, seed 1), "
    .. "%d steps of %d jets; random init is the same encoder untrained."):format(pretrain_data, o.preset, steps, batch_size), "",
  "| task | steps | final validation loss | run |", "|---|---|---|---|",
}
for _, b in ipairs(backbones) do
  lines[#lines + 1] = ("| %s | %d | %s | `%s` |"):format(b.task, b.steps or steps, b.val_loss and ("%.4f"):format(b.val_loss) or "-", b.dir)
end
local FIGURES = { jetclass = "accuracy_vs_jets.png", cwola = "sic_vs_signal.png", btag = "accuracy_vs_jets.png",
  vertexing = "ari_vs_vertices.png", tracks = "balanced_accuracy_vs_tracks.png" }
for _, p in ipairs(PROTOCOLS) do
  local found = results[p.name]
  local rows = found and found.summary
  lines[#lines + 1] = ""
  lines[#lines + 1] = ("## Figure %s: %s"):format(p.figure, p.title)
  lines[#lines + 1] = ""
  if not rows then
    lines[#lines + 1] = chosen[p.name] and "Not run yet." or ("Not run in the %s budget (`--budget full` runs it)."):format(o.budget)
  else
    local sweep_rows = found.rows
    if #sweep_rows < found.planned then
      lines[#lines + 1] = ("**Partial:** %d of the %d runs planned are finished; the job is running or was stopped "
        .. "(running it again continues)."):format(#sweep_rows, found.planned)
      lines[#lines + 1] = ""
    end
    local figure = #sweep_rows >= found.planned and copy(files.join(runs, p.name .. "/" .. FIGURES[p.name]),
      files.join(o.report, ("figure_%s_%s.png"):format(p.figure, p.name)))
    if figure then lines[#lines + 1] = ("![Figure %s](%s)"):format(p.figure, files.basename(figure)); lines[#lines + 1] = "" end
    lines[#lines + 1] = ("| %s | backbone | %s | seeds | vs random init | standard errors |"):format(p.size_label, p.label)
    lines[#lines + 1] = "|---|---|---|---|---|---|"
    for _, r in ipairs(rows) do
      local versus, errors = "", ""
      if r.vs_random then
        local se = r.vs_random_se
        versus = se and ("%+.3f ± %.3f"):format(r.vs_random, se) or ("%+.3f"):format(r.vs_random)
        errors = se and se > 0 and ("%.1f"):format(r.vs_random / se) or "-"
      end
      local value = r.seeds > 1 and ("%.3f ± %.3f"):format(r.mean, r.se) or ("%.3f"):format(r.mean)
      lines[#lines + 1] = ("| %d | %s | %s | %d | %s | %s |"):format(r[p.size], r.backbone, value, r.seeds, versus, errors)
    end
    local text, short = verdict(rows)
    lines[#lines + 1] = ""
    lines[#lines + 1] = "**Paper:** \"" .. p.claim .. "\""
    lines[#lines + 1] = ""
    lines[#lines + 1] = "**Here:** " .. text .. (p.shrinks and ("; " .. shrinking(rows, p.size)) or "") .. "."
    if p.caveat then lines[#lines + 1] = ""; lines[#lines + 1] = p.caveat end
    lines[#lines + 1] = ""
    lines[#lines + 1] = ("Runs: %s. Each run's learning curve is its `curve.png`; every run and its directory is in `%s`."):format(
      convergence(sweep_rows), files.join(runs, p.name .. "/sweep.csv"))
    report.protocols[p.name] = { figure = p.figure, metric = p.metric, rows = rows, verdict = short, runs = #sweep_rows,
      planned = found.planned }
  end
end

lines[#lines + 1] = ""
lines[#lines + 1] = "## Appendix E: do the reconstructions collapse to the mean?"
lines[#lines + 1] = ""
if not reconstruction or not reconstruction.floor then
  lines[#lines + 1] = "Not run (`--reconstruct-jets 0`, or no backbone that samples)."
else
  local floor = reconstruction.floor
  if reconstruction.figure and copy(reconstruction.figure, files.join(o.report, "appendix_e.png")) then
    lines[#lines + 1] = "![Appendix E](appendix_e.png)"
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = ("The dropped particles (40%% masked) of %d test jets reconstructed once by each backbone, scored by "
    .. "the generative metrics (docs/metrics.md); in brackets the value over its truth-vs-truth floor (two halves of "
    .. "the real jets), 1x being as close as real jets are to each other."):format(reconstruction.metric_jets)
  lines[#lines + 1] = ""
  lines[#lines + 1] = "| backbone | W1P pt (GeV) | W1P Δη | W1P Δφ | W1M (GeV) | FPD |"
  lines[#lines + 1] = "|---|---|---|---|---|---|"
  local function cell(value, at_floor) return ("%.3g (%.1fx)"):format(value, value / at_floor) end
  lines[#lines + 1] = ("| truth (floor) | %.3g | %.3g | %.3g | %.3g | %.2g |"):format(floor.w1p.pt, floor.w1p.deta, floor.w1p.dphi,
    floor.w1m, floor.fpd)
  local regression, worst_other = nil, 0
  for _, r in ipairs(reconstruction.runs) do
    local m = r.metrics
    lines[#lines + 1] = ("| %s | %s | %s | %s | %s | %.2g ± %.1g |"):format(r.task, cell(m.w1p.pt, floor.w1p.pt),
      cell(m.w1p.deta, floor.w1p.deta), cell(m.w1p.dphi, floor.w1p.dphi), cell(m.w1m, floor.w1m), m.fpd, m.fpd_error)
    local angles = math.min(m.w1p.deta / floor.w1p.deta, m.w1p.dphi / floor.w1p.dphi)
    if r.task == "reg" then regression = angles else worst_other = math.max(worst_other, math.max(m.w1p.deta / floor.w1p.deta, m.w1p.dphi / floor.w1p.dphi)) end
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "**Paper:** \"The Regression backbone often collapses towards the center of the distribution. [...] All other "
    .. "methods reconstruct this bi-modality, but the Regression backbone simply predicts the mean.\""
  lines[#lines + 1] = ""
  if regression == nil or #reconstruction.runs < 2 then
    lines[#lines + 1] = "**Here:** not measured: it needs the regression backbone and a sampling one (`--budget full`)."
  else
    lines[#lines + 1] = ("**Here:** %s: regression's angular W1P are at least %.1fx their floor, the sampling backbones' at most %.1fx."):format(
      regression > worst_other and "**holds**" or "**not shown here**", regression, worst_other)
  end
end
lines[#lines + 1] = ""
lines[#lines + 1] = "The numbers of this page are in `results.json` beside it."
files.write(files.join(o.report, "results.json"), json.encode(report))
files.write(files.join(o.report, "README.md"), table.concat(lines, "\n") .. "\n")
print(("paper: %.0f min; report written to %s"):format((mpm.clock() - started) / 60, files.join(o.report, "README.md")))
return report
