-- mpm.downstream: what the protocol scripts (examples/jetclass.lua, cwola.lua, btag.lua,
-- vertexing.lua, tracks.lua) share: one run that fine-tunes a head on a backbone, predicts the
-- test set and writes result.json and predictions.h5 (downstream.classify); a sweep over a grid
-- of runs that resumes and writes one CSV; the sweep plot and summary. The command line of a
-- protocol script is mpm.downstream_protocol's, which adds downstream.protocol to this table.
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
  { "epochs", 100, "integer", "the most passes over the training jets (early stopping ends a converged run sooner)" },
  { "batch-size", 64, "integer", "jets per batch" },
  { "lr", 0, "number", ("learning rate (0: %g for a pre-trained backbone, %g for random and none)"):format(
    downstream.LEARNING_RATES.pretrained, downstream.LEARNING_RATES.random) },
  { "patience", 10, "integer", "validations (one per epoch) without a lower loss before stopping, counted once the backbone has caught up" },
  { "preset", "small", "string", "encoder size for --backbone random" },
  { "precision", "fp32", "string", "fine-tuning's matrix products: fp32 or bf16 (mpm.finetune.run)" },
  { "preprocessing", "", "string", "fitted preprocessing (default: the backbone's; for random and none one fitted on --fit-data)" },
  { "data", "data/jetclass_train.h5", "string", "training jets" },
  { "val", "data/jetclass_val.h5", "string", "validation jets" },
  { "val-jets", 300, "integer", "validation jets" },
  { "test", "data/jetclass_test.h5", "string", "test jets (the metrics)" },
  { "test-jets", 0, "integer", "test jets (0: all)" },
  { "fit-data", false, "string", "jets a preprocessing is fitted on for random and none (default --data)" },
  { "out", "runs/downstream", "string", "output directory" },
  { "overwrite", false, "flag", "replace a result of another experiment in OUT (without it, that is an error)" },
  { "quiet", false, "flag", "no progress output" },
  { "export-onnx", false, "string", "after the run, write the fine-tuned network (best weights) to this ONNX file, replacing it (mpm.onnx.export)" },
  { "classes", false, false, "number of classes (1: one logit, labels 1 = background, 2 = signal)" },
  { "class_names", false, false, "comma-separated class names for predictions.h5" },
  { "task", false, false, "a fine-tuning task replacing the classification (below)" },
  { "loss", "cross_entropy", false, "cross_entropy or bce" },
  { "keep_best", true, false, "keep the weights of the best validation" },
  { "protocol", "classification", false, "the protocol's name in result.json" },
  { "kind", false, false, "the kind of jets the protocol needs (jetclass, btag); false: any" },
  { "extra", false, false, "fields copied into result.json" },
}
local defaults = cli.defaults(downstream.OPTIONS)

--- downstream.B_TAGGING: how BTag-like results are read in the field: the b-tagging
--- discriminant D_b = log(p_b / (f_c p_c + (1 - f_c) p_light)) with the charm fraction f_c, and
--- the light- and c-jet rejections (1 / mistag rate) at fixed b-jet efficiencies.
downstream.B_TAGGING = { charm_fraction = 0.05, efficiencies = { 0.70, 0.77 } }

-- The b-tagging figures of merit of flavour scores [N, 3] (light, charm, bottom) against labels
-- 1..3: light_rejection_70, c_rejection_70, ... (nil where the test set lacks a flavour).
local function b_tagging(scores, labels)
  local f = downstream.B_TAGGING.charm_fraction
  local light, charm, bottom = scores:select(2, 1), scores:select(2, 2), scores:select(2, 3)
  local discriminant = (bottom / (charm * f + light * (1 - f))):log()
  local out = {}
  for flavour, name in pairs { [1] = "light", [2] = "c" } do
    local keep = labels:eq(3):logical_or(labels:eq(flavour)):nonzero():reshape(-1)
    local truth = labels:index_select(1, keep):eq(3):long()
    if keep:numel() > 0 and truth:sum():item() > 0 and truth:sum():item() < keep:numel() then
      for _, efficiency in ipairs(downstream.B_TAGGING.efficiencies) do
        out[("%s_rejection_%d"):format(name, math.floor(efficiency * 100 + 0.5))] =
          mpm.metrics.rejection(discriminant:index_select(1, keep), truth, { efficiency = efficiency })
      end
    end
  end
  return out
end

-- The metrics of test-set predictions, with what a guess would score (chance) and the test-set
-- statistical error of the accuracy: accuracy, balanced accuracy and the confusion matrix with
-- its class names for several classes (b-tagging rejections for light/charm/bottom); for one
-- logit (binary) the ROC AUC, the SIC at fpr 1e-2 and the rejection at 50% efficiency.
local function score(scores, labels, o, test_ds)
  local m = mpm.metrics
  local n, counts = labels:numel(), {}
  for _, label in ipairs(labels:tolist()) do counts[label] = (counts[label] or 0) + 1 end
  local majority = 0
  for _, c in pairs(counts) do majority = math.max(majority, c / n) end
  local result
  if scores:size(2) == 1 then
    local s, truth = scores:reshape(-1), labels - 1
    local sic, tpr, fpr = m.sic(s, truth, { fpr = 0.01 })
    result = { auc = m.roc_auc(s, truth), sic = sic, sic_tpr = tpr, sic_fpr = fpr,
      rejection_50 = m.rejection(s, truth, { efficiency = 0.5 }), accuracy = m.accuracy(s:gt(0.5):long() + 1, labels),
      -- A random tagger passes signal as often as background: tpr = fpr.
      chance = { auc = 0.5, sic = math.sqrt(0.01), rejection_50 = 2, accuracy = majority } }
  else
    result = { accuracy = m.accuracy(scores, labels), balanced_accuracy = m.balanced_accuracy(scores, labels),
      confusion_matrix = m.confusion_matrix(scores, labels, math.max(o.classes, 2)),
      chance = { accuracy = majority, balanced_accuracy = 1 / o.classes } }
    if o.class_names then result.confusion_classes = downstream.list(o.class_names) end
    if test_ds.kind == "btag" and o.classes == 3 then
      for k, v in pairs(b_tagging(scores, labels)) do result[k] = v end
    end
  end
  result.accuracy_se = math.sqrt(result.accuracy * (1 - result.accuracy) / n)
  return result
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
      return score(scores, labels, o, test_ds), scores:size(1)
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
  local forward = finetune.network(backbone, head, "set", "fp32")
  return function(batch) return autograd.no_grad(forward, batch, true) end, saved
end

-- The code that makes a result: mpmlua's version, the host executable and every Lua file of
-- the library, as one short digest (computed once per process).
local code_version
local function code()
  if code_version then return code_version end
  local parts = { files.digest("/proc/self/exe") }
  local function walk(dir)
    for _, name in ipairs(files.list(dir)) do
      local path = files.join(dir, name)
      if files.kind(path) == "directory" then walk(path)
      elseif name:match("%.lua$") then parts[#parts + 1] = path:match("mpm/.*$") .. " " .. files.digest(path) end
    end
  end
  walk(files.dirname(debug.getinfo(1, "S").source:sub(2)))
  code_version = mpm.version .. "+" .. files.digest_text(table.concat(parts, "\n")):sub(1, 16)
  return code_version
end

-- The option values that decide a run's result (not where it is written or how it reports).
local NOT_DECIDING = { out = true, quiet = true, overwrite = true, export_onnx = true, task = true, extra = true }

--- mpm.downstream.experiment(options) -> key, digest: everything that decides the result of
--- downstream.classify with these options: the content of the backbone, data and preprocessing
--- files (SHA-256), every option, the task's own options and the code (mpmlua's version, its
--- executable and Lua files). A result is reused only when its digest is this one.
---   local key, digest = mpm.downstream.experiment{backbone = "random", classes = 10}
function downstream.experiment(given)
  local o = options.check("downstream.experiment", given, defaults, 2)
  local function content(v, option)
    local path = type(v) == "string" and v or v.path
    if not files.exists(path) then error(("--%s: no such file %s"):format(option, path), 0) end
    return files.digest(path)
  end
  local key = { code = code(), options = {}, task = o.task and (o.task.key or "a task without a key") or "classification",
    extra = o.extra or nil }
  for _, s in ipairs(downstream.OPTIONS) do
    local name = s[1]:gsub("-", "_")
    if not NOT_DECIDING[name] and o[name] ~= false then key.options[name] = o[name] end
  end
  if o.backbone ~= "random" and o.backbone ~= "none" then
    if type(o.backbone) ~= "string" or not files.exists(o.backbone) then
      error(("--backbone: no such file %s (a backbone.h5, 'random' or 'none')"):format(tostring(o.backbone)), 0)
    end
    key.options.backbone = { file = files.digest(o.backbone) }
    key.options.preset = nil  -- the file holds its own sizes
  end
  for _, option in ipairs { "data", "val", "test" } do key.options[option] = content(o[option], option) end
  key.options.fit_data = o.fit_data and content(o.fit_data, "fit-data") or nil
  key.options.preprocessing = o.preprocessing ~= "" and content(o.preprocessing, "preprocessing") or nil
  return key, files.digest_text(mpm.json.encode(key))
end

-- What differs between two experiment keys, in a few words: "options.steps 10 -> 40".
local function differences(old, new)
  if type(old) ~= "table" then return "it has no experiment key (written by an earlier mpmlua)" end
  local found = {}
  local function walk(a, b, path)
    if type(a) == "table" and type(b) == "table" then
      local names = {}
      for k in pairs(a) do names[k] = true end
      for k in pairs(b) do names[k] = true end
      for k in pairs(names) do walk(a[k], b[k], path == "" and tostring(k) or (path .. "." .. tostring(k))) end
    elseif a ~= b then
      local function show(v) return type(v) == "string" and #v == 64 and "(another content)" or tostring(v) end
      found[#found + 1] = ("%s %s -> %s"):format(path, show(a), show(b))
    end
  end
  walk(old, new, "")
  table.sort(found)
  return #found == 0 and "the same settings" or table.concat(found, ", ", 1, math.min(#found, 4))
end

--- downstream.ARMS: the settings that differ between the arms of a comparison, as a result and
--- a figure state them.
downstream.ARMS = ("pre-trained: lr %g, backbone frozen then caught up (--mode finetune); random init and none: lr %g, all trained from step 1"):format(
  downstream.LEARNING_RATES.pretrained, downstream.LEARNING_RATES.random)

-- The option checks of a run: every value that cannot give a meaningful number is refused in
-- the command line's words.
local function check_run(o)
  local function at_least(option, value, low)
    if math.type(value) ~= "integer" or value < low then
      error(("--%s %s: must be an integer of at least %d"):format(option, tostring(value), low), 0)
    end
  end
  at_least("train-jets", o.train_jets, 1)
  at_least("epochs", o.epochs, 1)
  at_least("batch-size", o.batch_size, 1)
  at_least("val-jets", o.val_jets, 1)
  at_least("test-jets", o.test_jets, 0)
  if o.patience ~= false then at_least("patience", o.patience, 1) end
  if type(o.lr) ~= "number" or o.lr < 0 or o.lr ~= o.lr or o.lr == math.huge then
    error(("--lr %s: a learning rate is positive (or 0: %g for a pre-trained backbone, %g for random and none)"):format(
      tostring(o.lr), downstream.LEARNING_RATES.pretrained, downstream.LEARNING_RATES.random), 0)
  end
  if o.mode ~= "finetune" and o.mode ~= "frozen" then
    error(("--mode %s: must be finetune or frozen"):format(tostring(o.mode)), 0)
  end
end

-- Each file a run reads must hold the jets its protocol is about.
local function check_kind(o, named)
  if not o.kind then return end
  for _, entry in ipairs(named) do
    local option, ds = entry[1], entry[2]
    if ds.kind ~= o.kind then
      error(("--%s %s holds %s jets (classes %s); the %s protocol needs %s jets"):format(option, ds.path, ds.kind,
        table.concat(ds.classes, ", "), o.protocol, o.kind), 0)
    end
  end
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
  check_run(o)
  local key, digest = downstream.experiment(o)
  local result_path = files.join(o.out, "result.json")
  local function export(result, reused)
    if o.export_onnx then mpm.onnx.export(files.join(o.out, "model.h5"), o.export_onnx, { overwrite = true }) end
    return result, reused
  end
  if files.exists(result_path) then
    local previous = downstream.read_result(result_path)
    if previous.key_digest == digest then return export(previous, true) end
    if not o.overwrite then
      error(("%s: %s holds the result of another experiment (%s); use another --out, or --overwrite to replace it"):format(
        o.protocol, o.out, differences(previous.key, key)), 0)
    end
  end
  local task = o.task or classification(o)
  local t0 = mpm.clock()
  files.mkdir(o.out)
  mpm.manual_seed(o.seed)
  local backbone, record = backbones.from_spec(o.backbone, { preset = o.preset })
  if o.mode == "frozen" and not backbone then error("--mode frozen needs a pre-trained backbone", 0) end
  local mode = (record.kind == "file") and o.mode or "full"
  local function open(v) return type(v) == "string" and data.open(v) or v end
  local train_ds, val_ds, test_ds = open(o.data), open(o.val), open(o.test)
  check_kind(o, { { "data", train_ds }, { "val", val_ds }, { "test", test_ds } })
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
  -- The budget is in epochs, validated once per epoch (at most every 500 steps); early stopping
  -- ends a run that has converged, so both arms of a comparison stop at their own best.
  local per_epoch = math.max(1, o.train_jets // math.min(o.batch_size, o.train_jets))
  local fit = finetune.run { backbone = backbone, head = head, mode = mode, loader = loader,
    val_loader = val_loader, steps = o.epochs * per_epoch, val_every = math.min(per_epoch, 500), lr = lr,
    loss = task.loss or o.loss, patience = o.patience, keep_best = o.keep_best, out = files.join(o.out, "train"),
    overwrite = true, quiet = o.quiet, input = task.input, accuracy = task.accuracy, precision = o.precision }
  local t_train = mpm.clock() - t0
  -- The learning curves beside the result: a number is only as good as the run that made it.
  local curve = plot.loss_curve(fit.metrics, files.join(o.out, "curve.png"), ("%s: %s, %d training jets"):format(
    o.protocol, record.kind == "file" and o.backbone or record.kind, o.train_jets))
  downstream.save_model(files.join(o.out, "model.h5"), { backbone = fit.backbone, config = record.config, head = fit.head,
    dim = record.dim, classes = task.classes or o.classes or nil, class_names = task.class_names or o.class_names or nil,
    preprocessing = pre_path })
  local metrics, test_jets = task.evaluate(fit, test_loader, test_ds, record, pre_path)
  local result = {
    protocol = o.protocol, metrics = metrics, key = key, key_digest = digest, arms = downstream.ARMS,
    backbone = { spec = o.backbone, kind = record.kind, task = record.task, preset = record.preset or o.preset,
      preprocessing = pre_path },
    options = { mode = mode, train_jets = o.train_jets, val_jets = o.val_jets, test_jets = test_jets,
      seed = o.seed, epochs = o.epochs, batch_size = o.batch_size, lr = lr,
      loss = type(task.loss) == "string" and task.loss or (task.loss and "task" or o.loss), patience = o.patience,
      train = train_ds.path, val = val_ds.path, test = test_ds.path },
    training = { steps = fit.step, steps_per_epoch = per_epoch, budget_steps = o.epochs * per_epoch,
      curve = curve, metrics = fit.metrics, best_step = fit.best and fit.best.step, best_val_loss = fit.best and fit.best.loss,
      best_val_accuracy = fit.best and fit.best.accuracy, stopped_early = fit.stopped_early },
    times = { train_seconds = t_train, total_seconds = mpm.clock() - t0 },
    extra = o.extra or nil,
  }
  files.write(result_path, mpm.json.encode(result))
  return export(result, false)
end

-- The rank (0-based) each run goes to: the one with the least work dealt so far, in the list's
-- order, work being cost(r) (default 1). Equal costs deal round-robin; a sweep over two sizes does
-- not leave one rank all the large runs while the other waits at the barrier.
local function deal(runs, cost, ranks)
  local load, owner = {}, {}
  for k = 1, ranks do load[k] = 0 end
  for i, r in ipairs(runs) do
    local k = 1
    for j = 2, ranks do if load[j] < load[k] then k = j end end
    owner[i], load[k] = k - 1, load[k] + (cost and cost(r) or 1)
  end
  return owner
end

--- mpm.downstream.sweep{runs=, csv=, columns=, run=, quiet=, cost=} -> rows: calls run(r) for
--- each entry of runs (tables with at least `out`), skipping finished ones (run reads their
--- result.json back), and rewrites the CSV after every run with one row per finished run:
--- the `columns` picked from each {run = r, result = result} by column -> function(entry).
--- Under mpirun the runs are dealt out over the ranks, each to the rank with the least work so
--- far (cost(r), e.g. its number of training jets; default 1 per run); rank 0 rewrites the CSV
--- with every finished run after each of its own, then reads every result.json back, writes the
--- CSV and returns the rows (the other ranks return an empty list).
function downstream.sweep(o)
  local dist = mpm.distributed
  local function row_of(r, result)
    local row = {}
    for _, name in ipairs(o.columns.names) do row[name] = o.columns[name]({ run = r, result = result }) end
    return row
  end
  if dist.size() > 1 then
    local owner = deal(o.runs, o.cost, dist.size())
    for i, r in ipairs(o.runs) do
      if owner[i] == dist.rank() then
        o.run(r)
        -- Rank 0 lists every run finished so far, by any rank, so a stopped sweep reports them.
        if dist.is_main() then
          local rows = {}
          for _, f in ipairs(o.runs) do
            local path = files.join(f.out, "result.json")
            if files.exists(path) then rows[#rows + 1] = row_of(f, downstream.read_result(path)) end
          end
          tabular.write_csv(o.csv, o.columns.names, rows)
        end
      end
    end
    dist.barrier()
    if not dist.is_main() then return {} end
  end
  local rows = {}
  for i, r in ipairs(o.runs) do
    local t0 = mpm.clock()
    local result, reused = o.run(r)
    rows[#rows + 1] = row_of(r, result)
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
--- baseline=, chance=, caption=} -> path or nil, message: y against x with one line per group
--- (mean over the rows sharing x, error bars = its standard error over seeds); the baseline
--- group (random init) is drawn dashed, the chance level dotted, the caption under the plot.
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
      s.x[#s.x + 1], s.y[#s.y + 1], s.yerr[#s.yerr + 1] = x, summary.mean, summary.se
    end
    if g == o.baseline then s.style = "yerrorlines dt 2" end
    series[#series + 1] = s
  end
  return plot.lines { out = o.out, series = series, title = o.title, xlabel = o.xlabel, ylabel = o.ylabel,
    logx = o.logx ~= false, key = "outside right top", caption = o.caption,
    hlines = o.chance and { { y = o.chance, title = "chance" } } or nil }
end

--- mpm.downstream.list(text [, convert [, option]]) -> list: "a,b,c" split at commas; convert
--- "integer" (positive integers) or "number" converts each item. An empty list or an item listed
--- twice is an error naming the option (a sweep would run nothing, or count one run twice).
---   mpm.downstream.list("100,300", "integer", "sizes")   --> {100, 300}
function downstream.list(text, convert, option)
  local out, seen = {}, {}
  local function refuse(why) error(("%s%s: %s"):format(option and ("--" .. option .. " ") or "", text, why), 0) end
  for item in tostring(text):gmatch("[^,]+") do
    item = item:match("^%s*(.-)%s*$")
    if item ~= "" then
      if convert then
        local v = tonumber(item)
        if convert == "integer" then v = math.tointeger(v) end
        if v == nil or (convert == "integer" and v < 1) then
          refuse(("'%s' is not a %s"):format(item, convert == "integer" and "positive integer" or "number"))
        end
        item = v
      end
      if seen[item] then refuse(("%s is listed twice"):format(tostring(item))) end
      seen[item] = true
      out[#out + 1] = item
    end
  end
  if #out == 0 then refuse("no values") end
  return out
end

--- mpm.downstream.summarise(rows, size_column, metric) -> list of {backbone, [size_column],
--- seeds, mean, se, vs_random, vs_random_se}: a sweep's rows (sweep.csv) per backbone and size:
--- the mean over seeds with its standard error, and the difference from random init at that size
--- with the standard error of the difference (nil unless both sides have two seeds or more)
--- (summary.csv); sorted by size, then backbone.
---   local summary = mpm.downstream.summarise(rows, "train_jets", "accuracy")
function downstream.summarise(rows, size_column, metric)
  local groups, order = {}, {}
  for _, row in ipairs(rows) do
    local id = row.backbone .. "\0" .. row[size_column]
    if not groups[id] then
      groups[id] = { backbone = row.backbone, [size_column] = row[size_column], values = {} }
      order[#order + 1] = groups[id]
    end
    -- A run whose metric is not a number (no signal jet passed) is left out of the mean, not zero.
    local v = row[metric]
    if type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge then table.insert(groups[id].values, v) end
  end
  local random = {}
  local kept = {}
  for _, g in ipairs(order) do
    if #g.values > 0 then
      local s = stats.summary(g.values)
      g.seeds, g.mean, g.se, g.values = s.n, s.mean, s.se, nil
      if g.backbone == "random" then random[g[size_column]] = g end
      kept[#kept + 1] = g
    end
  end
  order = kept
  for _, g in ipairs(order) do
    local r = random[g[size_column]]
    -- One seed on either side gives no spread, so the difference has no standard error (not 0).
    if r and g ~= r then
      g.vs_random = g.mean - r.mean
      if g.seeds > 1 and r.seeds > 1 then g.vs_random_se = math.sqrt(g.se ^ 2 + r.se ^ 2) end
    end
  end
  table.sort(order, function(x, y)
    if x[size_column] ~= y[size_column] then return x[size_column] < y[size_column] end
    return x.backbone < y.backbone
  end)
  return order
end


return downstream
