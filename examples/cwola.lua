-- Weakly supervised anomaly search, CWoLa (MPMv2 Section 5.2.2, Figure 3b): the head never sees
-- a true label. Two mixed samples are built from the training file: background (QCD) jet i
-- goes to sample i % 2, and the first --n-signal signal jets (TTBar) all go to sample 1. A
-- one-logit head learns to tell the samples apart (BCE, targets smoothed by up to 0.05, a
-- fixed 10 epochs (--epochs), no early stopping, the last weights); on the test set with true
-- labels, the significance improvement SIC = tpr / sqrt(fpr + 1e-12) at fpr closest to 0.01
-- measures how much signal it found.
--
--   mpmlua examples/cwola.lua --backbone runs/cfm/backbone.h5 --n-signal 300 --out runs/cwola
--   mpmlua examples/cwola.lua --sweep --backbones runs/cfm/backbone.h5,random --out runs/cwola_sweep
--
-- Writes OUT/result.json (SIC, its tpr and fpr, AUC, rejection at 50% efficiency) and
-- OUT/predictions.h5 per run; the sweep writes OUT/sweep.csv and OUT/sic_vs_signal.png.
-- The bundled files hold 300 QCD and 300 TTBar training jets and 100 of each for testing: an
-- fpr of 0.01 is then one background jet, so the SIC is noisy; the script says so, and
-- `make data-cwola N=...` generates enough QCD and TTBar jets for the paper's sizes (docs/downstream.md).
local files = mpm.files

-- The number of class `name` in a dataset, or an error naming the classes it has.
local function class_number(ds, name)
  for i, c in ipairs(ds.classes) do if c == name then return i end end
  error(("%s (%s jets) has no class '%s' (its classes: %s)"):format(ds.path, ds.kind, name,
    table.concat(ds.classes, ", ")), 0)
end

-- The CWoLa samples of one file: labels 1 (sample 0) and 2 (sample 1, with the signal), or
-- with truth = true the true labels (1 background, 2 signal), written to `path` once.
local function mixed_file(source, path, n_signal, truth)
  if files.exists(path) then return path end
  local ds = mpm.data.open(source)
  local background, signal = class_number(ds, "QCD"), class_number(ds, "TTBar")
  local labels = ds:read(1, #ds).labels:tolist()
  local picked, new = {}, {}
  local n_background, n_sig = 0, 0
  for i, label in ipairs(labels) do
    if label == background then
      n_background = n_background + 1
      picked[#picked + 1] = i
      new[#new + 1] = truth and 1 or (n_background % 2) + 1
    elseif label == signal and (truth or n_sig < n_signal) then
      n_sig = n_sig + 1
      picked[#picked + 1] = i
      new[#new + 1] = 2
    end
  end
  if not truth and n_sig < n_signal then
    error(("--n-signal %d: %s has only %d signal jets"):format(n_signal, source, n_sig), 0)
  end
  local b = ds:read(picked)
  mpm.data.write(path, mpm.data.batch { features = b.features, types = b.types, offsets = b.offsets,
    labels = mpm.tensor(new, { dtype = "int64" }), jets = b.jets, kind = ds.kind })
  return path
end

return mpm.downstream.protocol({
  name = "cwola", kind = "jetclass", synopsis = "mpmlua examples/cwola.lua [options]",
  classes = 1, class_names = "background,signal",
  defaults = { ["n-signal"] = 300, data = "data/jetclass_train.h5", val = "data/jetclass_val.h5",
    test = "data/jetclass_test.h5", ["fit-data"] = "data/jetclass_train.h5", sizes = "50,100,200,300", epochs = 10,
    patience = false },
  size = { option = "n-signal", column = "n_signal", label = "number of signal jets in the mixed sample",
    help = "signal jets mixed into sample 1" },
  metric = { name = "sic", label = "SIC at background efficiency 0.01", extra = { "auc" } },
  figure = "sic_vs_signal.png", title = "CWoLa (QCD vs TTBar): significance improvement",
  note = function(o)
    local ds = mpm.data.open(o.test)
    if #ds < 20000 then
      return ("%s has %d jets: the SIC at fpr 0.01 rests on a handful of background jets. For the paper's "
        .. "sizes generate QCD and TTBar jets alone with `make data-cwola N=200000` and pass --data/--val/--test "
        .. "data/generated/cwola_{train,val,test}.h5"):format(o.test, #ds)
    end
  end,
  run = function(o, r)
    local dir = files.join(o.out, "samples")
    files.mkdir(dir)
    local train = mixed_file(o.data, files.join(dir, ("train_n%d.h5"):format(r.n_signal)), r.n_signal)
    local val = mixed_file(o.val, files.join(dir, ("val_n%d.h5"):format(r.n_signal)),
      math.ceil(r.n_signal * #mpm.data.open(o.val) / #mpm.data.open(o.data)))
    local test = mixed_file(o.test, files.join(dir, "test_truth.h5"), 0, true)
    local n = #mpm.data.open(train)
    return { data = train, val = val, test = test, train_jets = n, loss = "bce", patience = false, keep_best = false,
      extra = { n_signal = r.n_signal, background = "QCD", signal = "TTBar" } }
  end,
}, arg)
