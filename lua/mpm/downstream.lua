-- mpm.downstream: what the protocol scripts (examples/jetclass.lua, cwola.lua, btag.lua,
-- vertexing.lua, tracks.lua) share: one run that fine-tunes a head on a backbone, predicts the
-- test set and writes result.json and predictions.h5 (downstream.classify); a sweep over a grid
-- of runs that resumes and writes one CSV; the sweep plot; and the command line of a protocol,
-- read from the same option table as classify, so a call from the REPL and the script agree.
local mpm = require "mpm.core"
local cli = require "mpm.cli"
local options = require "mpm.options"
local autograd = require "mpm.autograd"
local stats = require "mpm.stats"
local tabular = require "mpm.tabular"
local plot = require "mpm.plot"
local nn = require "mpm.nn"
local data = require "mpm.data"
local model_file = require "mpm.tasks.model"
local backbones = require "mpm.backbone"
local train = require "mpm.train"
local finetune = require "mpm.finetune"
local files = mpm.files
local downstream = {}

--- downstream.LEARNING_RATES: the head learning rate when none is given (lr = 0): lower for a
--- pre-trained backbone, whose features a large step would wreck, than for random init and none.
downstream.LEARNING_RATES = { pretrained = 3e-4, random = 1e-3 }

--- downstream.learning_rate(lr, kind) -> lr: the given one, or for 0 the rule of LEARNING_RATES by
--- the backbone's kind ("file" is pre-trained; "random" and "none" are not).
function downstream.learning_rate(lr, kind)
  if lr > 0 then return lr end
  return kind == "file" and downstream.LEARNING_RATES.pretrained or downstream.LEARNING_RATES.random
end

--- downstream.OPTIONS: the options of downstream.classify, {name, default, kind, help} each; the
--- protocol scripts' command lines are the entries with a kind (a protocol may change a default,
--- e.g. its data files), so the REPL and the script read the same defaults.
downstream.OPTIONS = {
  { "backbone", "random", "string", "a backbone.h5, 'random' or 'none'" },
  { "mode", "finetune", "string", "finetune (frozen, then caught up) or frozen (pre-trained backbones only)" },
  { "train-jets", 1000, "integer", "training jets (the first N of --data)" },
  { "seed", 1, "integer", "seed (head init, data order)" },
  { "steps", 100, "integer", "training steps (early stopping may end sooner)" },
  { "batch-size", 64, "integer", "jets per batch" },
  { "lr", 0, "number", ("learning rate (0: %g for a pre-trained backbone, %g for random and none)"):format(
    downstream.LEARNING_RATES.pretrained, downstream.LEARNING_RATES.random) },
  { "patience", 5, "integer", "validations without a better loss before stopping early" },
  { "preset", "small", "string", "encoder size for --backbone random" },
  { "preprocessing", "", "string", "fitted preprocessing (default: the backbone's; for random and none one fitted on --fit-data)" },
  { "data", "data/jetclass_train.h5", "string", "training jets" },
  { "val", "data/jetclass_val.h5", "string", "validation jets" },
  { "val-jets", 300, "integer", "validation jets" },
  { "test", "data/jetclass_test.h5", "string", "test jets (the metrics)" },
  { "test-jets", 0, "integer", "test jets (0: all)" },
  { "fit-data", false, "string", "jets a preprocessing is fitted on for random and none (default --data)" },
  { "out", "runs/downstream", "string", "output directory" },
  { "quiet", false, "flag", "no progress output" },
  { "export-onnx", false, "string", "after the run, write the fine-tuned network (best weights) to this ONNX file, replacing it (mpm.onnx.export)" },
  { "classes", false, false, "number of classes (1: one logit, labels 1 = background, 2 = signal)" },
  { "class_names", false, false, "comma-separated class names for predictions.h5" },
  { "task", false, false, "a fine-tuning task replacing the classification (below)" },
  { "loss", "cross_entropy", false, "cross_entropy or bce" },
  { "keep_best", true, false, "keep the weights of the best validation" },
  { "protocol", "classification", false, "the protocol's name in result.json" },
  { "extra", false, false, "fields copied into result.json" },
}
local defaults = cli.defaults(downstream.OPTIONS)

-- The metrics of test-set predictions: accuracy and balanced accuracy for several classes;
-- for one logit (binary) also the ROC AUC, the SIC at fpr 1e-2 and the rejection at 50%.
local function score(scores, labels, classes)
  local m = mpm.metrics
  if scores:size(2) == 1 then
    local s, truth = scores:reshape(-1), labels - 1
    local sic, tpr, fpr = m.sic(s, truth, { fpr = 0.01 })
    return { auc = m.roc_auc(s, truth), sic = sic, sic_tpr = tpr, sic_fpr = fpr,
      rejection_50 = m.rejection(s, truth, { efficiency = 0.5 }), accuracy = m.accuracy(s:gt(0.5):long() + 1, labels) }
  end
  return { accuracy = m.accuracy(scores, labels), balanced_accuracy = m.balanced_accuracy(scores, labels),
    confusion_matrix = m.confusion_matrix(scores, labels, classes) }
end

--- mpm.downstream.predict(predict, loader) -> scores [N, C] (probabilities; one column for a
--- binary head), labels [N] (1-based), jet_indices [N]: a whole loader through a trained
--- network (a fine-tuning result's predict), in eval mode without gradients.
function downstream.predict(predict, loader)
  local scores, labels, indices = {}, {}, {}
  train.each_batch(loader, 1, math.huge, function(batch)
    local logits = predict(batch)
    scores[#scores + 1] = logits:size(2) == 1 and logits:sigmoid() or mpm.softmax(logits, 2)
    labels[#labels + 1] = batch.labels
    indices[#indices + 1] = batch.jet_indices
  end)
  if #scores == 0 then error("downstream.predict: the loader yields no batches", 2) end
  return mpm.cat(scores, 1), mpm.cat(labels, 1), mpm.cat(indices, 1)
end

--- mpm.downstream.save_predictions(path, scores, labels [, extra]): an HDF5 file for h5py with
--- `scores` [N, C], `labels` [N] and `jet_indices` [N] in the data files' 0-based numbering
--- (attribute `index_base` = 0), plus the fields of extra (class names, ...).
function downstream.save_predictions(path, scores, labels, extra)
  local record = { scores = scores, labels = labels - 1, index_base = 0 }
  for k, v in pairs(extra or {}) do
    if k == "jet_indices" and mpm.is_tensor(v) then v = v - 1 end
    record[k] = v
  end
  mpm.save(path, record)
end

-- The classification task of downstream.classify: a class-attention head on the backbone's
-- output with registers; the test set's class scores in predictions.h5.
local function classification(o)
  if math.type(o.classes) ~= "integer" or o.classes < 1 then
    error("downstream.classify: option 'classes' is required (a positive integer)", 0)
  end
  return {
    head = function(dim) return nn.ClassAttentionClassifier(dim, o.classes) end,
    evaluate = function(fit, test_loader, test_ds)
      local scores, labels, indices = downstream.predict(fit.predict, test_loader)
      downstream.save_predictions(files.join(o.out, "predictions.h5"), scores, labels,
        { jet_indices = indices, classes = o.class_names or nil, file = test_ds.path })
      return score(scores, labels, math.max(o.classes, 2)), scores:size(1)
    end,
  }
end

--- mpm.downstream.save_model(path, {backbone=, config=, head=, dim=, classes=, class_names=,
--- preprocessing=}): a network fine-tuned by classify as a "finetuned-model" record
--- (mpm.records): the backbone's config and weights (none for a head on the inputs), the head's
--- type (ClassAttentionClassifier, or PerTrackMLP and EdgeHead of the per-particle protocols),
--- sizes and weights, the class names and the preprocessing it expects.
function downstream.save_model(path, m)
  mpm.records.save(path, "finetuned-model", {
    backbone = m.backbone and { config = m.config, state = m.backbone:state_dict() } or nil,
    head = { type = m.head:type_name(), dim = m.dim, classes = m.classes, state = m.head:state_dict() },
    class_names = m.class_names or nil, preprocessing = m.preprocessing,
  })
end

--- mpm.downstream.load_model(path) -> predict, record: a fine-tuned classifier saved by classify
--- (OUT/model.h5) rebuilt: predict(batch) -> logits [B, classes] in eval mode without gradients
--- (batches preprocessed with record.preprocessing).
---   local predict, record = mpm.downstream.load_model("runs/jc/model.h5")
function downstream.load_model(path)
  local saved = mpm.records.load(path, "finetuned-model")
  if saved.head.type ~= "ClassAttentionClassifier" then
    error(("load_model: %s holds a %s head; only classifiers load here (mpm.onnx.export takes any)"):format(path, saved.head.type), 2)
  end
  local backbone = saved.backbone and model_file.new_backbone(saved.backbone.config) or false
  if backbone then backbone:load_state_dict(saved.backbone.state); backbone:eval() end
  local head = nn.ClassAttentionClassifier(saved.head.dim, saved.head.classes)
  head:load_state_dict(saved.head.state)
  head:eval()
  local function forward(batch)
    if not backbone then return head(backbones.inputs(batch), batch.offsets) end
    return head(select(2, backbone(batch.features, batch.types, batch.offsets)))
  end
  return function(batch) return autograd.no_grad(forward, batch) end, saved
end

--- mpm.downstream.read_result(path) -> the table of a run's result.json.
function downstream.read_result(path)
  local f = assert(io.open(path))
  local done = mpm.json.decode(f:read("a"))
  f:close()
  return done
end

--- mpm.downstream.classify{out=, classes=, ...} -> result, reused: one run, options and defaults
--- in downstream.OPTIONS (the protocol scripts' command lines show the same ones): data, val
--- and test are jet files (or opened datasets) whose labels are 1..classes; the head is
--- mpm.nn.ClassAttentionClassifier. Writes out/result.json (metrics by name, options, backbone,
--- times), out/predictions.h5 and out/model.h5 (downstream.save_model). A run whose out/result.json exists is read back, not redone.
--- task = {head = function(dim, record) -> module, input = "set" | "particles", loss =
--- function(logits, batch) -> loss, accuracy = function(logits, batch) -> correct, count,
--- evaluate = function(fit, test_loader, test_ds, record, preprocessing path) -> metrics, test_jets, classes=,
--- class_names= (the head's outputs and their names, for model.h5), prepare =
--- function(train_loader) called before the head is made (optional)} replaces the
--- classification (head, loss, validation accuracy, test metrics and prediction files) by
--- another fine-tuning task on the same run (examples/vertexing.lua, tracks.lua); classes is
--- then not needed.
---   mpm.downstream.classify{backbone = "runs/cfm/backbone.h5", classes = 10, out = "runs/jc"}
function downstream.classify(given)
  local o = options.check("downstream.classify", given, defaults, 2)
  local result_path = files.join(o.out, "result.json")
  local function export(result, reused)
    if o.export_onnx then mpm.onnx.export(files.join(o.out, "model.h5"), o.export_onnx, { overwrite = true }) end
    return result, reused
  end
  if files.exists(result_path) then return export(downstream.read_result(result_path), true) end
  local task = o.task or classification(o)
  local t0 = mpm.clock()
  files.mkdir(o.out)
  mpm.manual_seed(o.seed)
  local backbone, record = backbones.from_spec(o.backbone, { preset = o.preset })
  if o.mode == "frozen" and not backbone then error("--mode frozen needs a pre-trained backbone", 0) end
  local mode = (record.kind == "file") and o.mode or "full"
  local function open(v) return type(v) == "string" and data.open(v) or v end
  local train_ds, val_ds, test_ds = open(o.data), open(o.val), open(o.test)
  if o.train_jets > #train_ds then
    error(("--train-jets %d: %s has only %d jets"):format(o.train_jets, train_ds.path, #train_ds), 0)
  end
  local pre, pre_path = data.preprocessing { file = o.preprocessing ~= "" and o.preprocessing or record.preprocessing or false,
    fit_on = o.fit_data or train_ds.path, save = files.join(o.out, "preprocessing.h5") }
  local loader = train_ds:loader { batch_size = math.min(o.batch_size, o.train_jets), shuffle = true, seed = o.seed,
    preprocessing = pre, max_jets = o.train_jets, drop_last = true }
  local val_loader = val_ds:loader { batch_size = 250, seed = o.seed + 1, preprocessing = pre,
    max_jets = math.min(#val_ds, o.val_jets) }
  local test_loader = test_ds:loader { batch_size = 250, seed = o.seed + 2, preprocessing = pre,
    max_jets = o.test_jets > 0 and math.min(#test_ds, o.test_jets) or nil }
  if task.prepare then task.prepare(loader) end
  local head = task.head(record.dim, record)
  local lr = downstream.learning_rate(o.lr, record.kind)
  local fit = finetune.run { backbone = backbone, head = head, mode = mode, loader = loader,
    val_loader = val_loader, steps = o.steps, lr = lr, loss = task.loss or o.loss, patience = o.patience,
    keep_best = o.keep_best, out = files.join(o.out, "train"), overwrite = true, quiet = o.quiet,
    input = task.input, accuracy = task.accuracy }
  local t_train = mpm.clock() - t0
  downstream.save_model(files.join(o.out, "model.h5"), { backbone = fit.backbone, config = record.config, head = fit.head,
    dim = record.dim, classes = task.classes or o.classes or nil, class_names = task.class_names or o.class_names or nil,
    preprocessing = pre_path })
  local metrics, test_jets = task.evaluate(fit, test_loader, test_ds, record, pre_path)
  local result = {
    protocol = o.protocol, metrics = metrics,
    backbone = { spec = o.backbone, kind = record.kind, task = record.task, preset = record.preset or o.preset,
      preprocessing = pre_path },
    options = { mode = mode, train_jets = o.train_jets, val_jets = o.val_jets, test_jets = test_jets,
      seed = o.seed, steps = o.steps, batch_size = o.batch_size, lr = lr,
      loss = type(task.loss) == "string" and task.loss or (task.loss and "task" or o.loss), patience = o.patience,
      train = train_ds.path, val = val_ds.path, test = test_ds.path },
    training = { steps = fit.step, best_step = fit.best and fit.best.step, best_val_loss = fit.best and fit.best.loss,
      best_val_accuracy = fit.best and fit.best.accuracy, stopped_early = fit.stopped_early },
    times = { train_seconds = t_train, total_seconds = mpm.clock() - t0 },
    extra = o.extra or nil,
  }
  files.write(result_path, mpm.json.encode(result))
  return export(result, false)
end

--- mpm.downstream.sweep{runs=, csv=, columns=, run=, quiet=} -> rows: calls run(r) for each
--- entry of runs (tables with at least `out`), skipping finished ones (run reads their
--- result.json back), and rewrites the CSV after every run with one row per finished run:
--- the `columns` picked from each {run = r, result = result} by column -> function(entry).
--- Under mpirun the runs are dealt out over the ranks (run i to rank (i - 1) % size); then
--- rank 0 reads every result.json back and writes the CSV, and returns the rows (the other
--- ranks return an empty list).
function downstream.sweep(o)
  local dist = mpm.distributed
  if dist.size() > 1 then
    for i, r in ipairs(o.runs) do
      if (i - 1) % dist.size() == dist.rank() then o.run(r) end
    end
    dist.barrier()
    if not dist.is_main() then return {} end
  end
  local rows = {}
  for i, r in ipairs(o.runs) do
    local t0 = mpm.clock()
    local result, reused = o.run(r)
    local row = {}
    for _, name in ipairs(o.columns.names) do row[name] = o.columns[name]({ run = r, result = result }) end
    rows[#rows + 1] = row
    tabular.write_csv(o.csv, o.columns.names, rows)
    if not o.quiet then
      print(("sweep %d/%d: %s %s (%s)"):format(i, #o.runs, r.label or r.out,
        o.columns.summary and o.columns.summary({ run = r, result = result }) or "",
        reused and "done before" or ("%.0f s"):format(mpm.clock() - t0)))
    end
  end
  return rows
end

--- mpm.downstream.plot_sweep{rows=, x=, y=, group=, out=, xlabel=, ylabel=, title=, logx=true,
--- baseline=} -> path or nil, message: y against x with one line per group (mean over the rows
--- sharing x, error bars = standard deviation over seeds); the baseline group (random init) is
--- drawn dashed.
function downstream.plot_sweep(o)
  local groups, order = {}, {}
  for _, row in ipairs(o.rows) do
    local g = row[o.group]
    if not groups[g] then groups[g] = {}; order[#order + 1] = g end
    local x = row[o.x]
    groups[g][x] = groups[g][x] or {}
    table.insert(groups[g][x], row[o.y])
  end
  local series = {}
  for _, g in ipairs(order) do
    local xs = {}
    for x in pairs(groups[g]) do xs[#xs + 1] = x end
    table.sort(xs)
    local s = { x = {}, y = {}, yerr = {}, title = tostring(g) }
    for _, x in ipairs(xs) do
      local summary = stats.summary(groups[g][x])
      s.x[#s.x + 1], s.y[#s.y + 1], s.yerr[#s.yerr + 1] = x, summary.mean, summary.sd
    end
    if g == o.baseline then s.style = "yerrorlines dt 2" end
    series[#series + 1] = s
  end
  return plot.lines { out = o.out, series = series, title = o.title, xlabel = o.xlabel, ylabel = o.ylabel,
    logx = o.logx ~= false, key = "outside right top" }
end

--- mpm.downstream.list(text [, convert]) -> list: "a,b,c" split at commas (tonumber with
--- convert = "number").
function downstream.list(text, convert)
  local out = {}
  for item in tostring(text):gmatch("[^,]+") do
    item = item:match("^%s*(.-)%s*$")
    if convert == "number" then
      local v = math.tointeger(tonumber(item)) or tonumber(item)
      if v == nil then error(("expected a list of numbers, got '%s'"):format(text), 0) end
      item = v
    end
    out[#out + 1] = item
  end
  return out
end

local function name_of(backbone)
  return (backbone == "random" or backbone == "none") and backbone or (backbone:match("([^/]+)/[^/]+$") or backbone)
end

-- A protocol's command line: the sweep's options, then classify's (downstream.OPTIONS) with the
-- protocol's size option in place of --train-jets and its defaults (data files, steps, ...),
-- then its own. Bundled data files are found from the working directory, else beside the
-- script's examples/ folder, so a script runs from any directory.
local function protocol_spec(p, args)
  local root, spec = files.dirname(files.dirname(args and args[0] or ".")), {}
  local function default_of(name, value)
    local v = p.defaults[name]
    if v == nil then v = p.defaults[name:gsub("-", "_")] end
    if v == nil then return value end
    if type(v) == "string" and v:match("%.h5$") and not files.kind(v) and files.kind(files.join(root, v)) then
      v = files.join(root, v)
    end
    return v
  end
  for _, s in ipairs(downstream.OPTIONS) do
    if s[3] then
      local entry = s[1] == "train-jets" and { p.size.option, nil, "integer", p.size.help } or { s[1], s[2], s[3], s[4] }
      entry[2] = default_of(entry[1], s[1] == "out" and ("runs/" .. p.name) or s[2])
      spec[#spec + 1] = entry
    end
  end
  spec[#spec + 1] = { "sweep", false, "flag", "run the sweep (backbones x sizes x seeds) instead of one run" }
  spec[#spec + 1] = { "backbones", "random", "string", "sweep: comma-separated backbones (files, random, none)" }
  spec[#spec + 1] = { "sizes", default_of("sizes"), "string", "sweep: values of --" .. p.size.option }
  spec[#spec + 1] = { "seeds", "1,2,3", "string", "sweep: seeds" }
  for _, entry in ipairs(p.options or {}) do spec[#spec + 1] = entry end
  return spec
end

--- mpm.downstream.protocol(p, args) -> result or rows: the command line of a protocol script
--- (examples/jetclass.lua, btag.lua, cwola.lua, vertexing.lua, tracks.lua): one run, or with
--- --sweep the grid backbones x sizes x seeds, a CSV and the figure. p = {name=, synopsis=,
--- defaults = {option = value}, classes=, class_names=, run = function(o, r) -> classify
--- options (data files, ...), size = {option=, column=, label=}, metric = {name=, label=},
--- figure=, title=, note=, options = extra command-line entries {name, default, type, help},
--- curves=}. curves = list of {name=, x=, y=, xlabel=, ylabel=, figure=, title=}: metrics that
--- are curves rather than one number (result.metrics[name] = list of points {[x]=, [y]=, ...},
--- e.g. ARI per number of vertices); each gets a figure (y against x, one line per backbone,
--- spread over seeds) for one run and for the sweep, and the sweep writes their points to
--- OUT/curves.csv (backbone, size, seed, curve, x, y).
function downstream.protocol(p, args)
  local o = cli.options(args, protocol_spec(p, args), p.synopsis)
  if o == nil then return end
  local size_key = p.size.option:gsub("-", "_")
  if p.note then
    local message = p.note(o)
    if message then print(p.name .. ": " .. message) end
  end
  local function run(r)
    local c = { classes = p.classes, class_names = p.class_names, protocol = p.name, quiet = o.quiet or o.sweep }
    for _, s in ipairs(downstream.OPTIONS) do
      local key = s[1]:gsub("-", "_")
      if s[3] and key ~= "quiet" and o[key] ~= nil then c[key] = o[key] end
    end
    c.backbone, c.out, c.seed, c.train_jets = r.backbone, r.out, r.seed, r.train_jets
    for k, v in pairs(p.run(o, r)) do c[k] = v end
    return downstream.classify(c)
  end
  local metric = p.metric.name
  -- The curve metrics of finished runs as rows {backbone, size, seed, x, y}, and their figures.
  local function curve_rows(entries, curve)
    local rows = {}
    for _, e in ipairs(entries) do
      for _, point in ipairs(e.result.metrics[curve.name] or {}) do
        if point[curve.y] ~= nil then
          rows[#rows + 1] = { backbone = name_of(e.run.backbone), size = e.run[size_key], seed = e.run.seed,
            x = point[curve.x], y = point[curve.y] }
        end
      end
    end
    return rows
  end
  local function plot_curves(entries)
    local written = {}
    for _, curve in ipairs(p.curves or {}) do
      local png = downstream.plot_sweep { rows = curve_rows(entries, curve), x = "x", y = "y", group = "backbone",
        baseline = "random", out = files.join(o.out, curve.figure), xlabel = curve.xlabel, ylabel = curve.ylabel,
        title = curve.title, logx = false }
      if png then written[#written + 1] = png end
    end
    return written
  end
  if not o.sweep then
    local r = { backbone = o.backbone, out = o.out, seed = o.seed, train_jets = o.train_jets }
    r[size_key] = o[size_key]
    local result, reused = run(r)
    print(("%s: %s %.4f on %d test jets (%s, %s %d)%s; %s"):format(p.name, metric, result.metrics[metric],
      result.options.test_jets, name_of(o.backbone), p.size.column, o[size_key],
      reused and ", from an earlier run" or "", files.join(o.out, "result.json")))
    local pngs = plot_curves { { run = r, result = result } }
    if #pngs > 0 and not o.quiet then print(p.name .. ": " .. table.concat(pngs, ", ")) end
    return result
  end
  local runs = {}
  for _, backbone in ipairs(downstream.list(o.backbones)) do
    for _, size in ipairs(downstream.list(o.sizes, "number")) do
      for _, seed in ipairs(downstream.list(o.seeds, "number")) do
        local label = ("%s_n%d_s%d"):format(name_of(backbone):gsub("[^%w]", "_"), size, seed)
        local r = { backbone = backbone, seed = seed, label = label, out = files.join(o.out, label),
          train_jets = o.train_jets }
        r[size_key] = size
        runs[#runs + 1] = r
      end
    end
  end
  local extra_metrics = p.metric.extra or {}
  local columns = { names = { "backbone", p.size.column, "seed", metric }, summary = function(e)
    return ("%s %.4f"):format(metric, e.result.metrics[metric])
  end }
  for _, m in ipairs(extra_metrics) do columns.names[#columns.names + 1] = m end
  for _, n in ipairs { "steps", "seconds" } do columns.names[#columns.names + 1] = n end
  columns.backbone = function(e) return name_of(e.run.backbone) end
  columns[p.size.column] = function(e) return e.run[size_key] end
  columns.seed = function(e) return e.run.seed end
  for _, m in ipairs { metric, table.unpack(extra_metrics) } do columns[m] = function(e) return e.result.metrics[m] end end
  columns.steps = function(e) return e.result.training.steps end
  columns.seconds = function(e) return e.result.times.total_seconds end
  files.mkdir(o.out)
  local rows = downstream.sweep { runs = runs, run = run, csv = files.join(o.out, "sweep.csv"), columns = columns,
    quiet = o.quiet }
  if not mpm.distributed.is_main() then return rows end
  local png = p.figure and downstream.plot_sweep { rows = rows, x = p.size.column, y = metric, group = "backbone",
    baseline = "random", out = files.join(o.out, p.figure), xlabel = p.size.label, ylabel = p.metric.label, title = p.title }
  local entries = {}
  for i, r in ipairs(runs) do entries[i] = { run = r, result = downstream.read_result(files.join(r.out, "result.json")) } end
  if p.curves then
    local rows_out = {}
    for _, curve in ipairs(p.curves) do
      for _, c in ipairs(curve_rows(entries, curve)) do
        rows_out[#rows_out + 1] = { backbone = c.backbone, [p.size.column] = c.size, seed = c.seed,
          curve = curve.name .. "." .. curve.y, x = c.x, y = c.y }
      end
    end
    tabular.write_csv(files.join(o.out, "curves.csv"), { "backbone", p.size.column, "seed", "curve", "x", "y" }, rows_out)
  end
  local pngs = plot_curves(entries)
  if png then table.insert(pngs, 1, png) end
  print(("%s sweep: %d runs; %s%s"):format(p.name, #rows, files.join(o.out, "sweep.csv"),
    #pngs > 0 and (", " .. table.concat(pngs, ", ")) or ""))
  return rows
end

return downstream
