-- The fine-tuning engine and the protocol scripts: the freeze / catch-up schedule (which
-- parameters change when, and the backbone's lr along the ramp), early stopping keeps the best
-- weights, a resumed run repeats an uninterrupted one's losses, predictions are written 0-based,
-- bad inputs give one line, and every protocol script runs end to end at a tiny size.
local T = require "mpm.testing"
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
local files, ft = mpm.files, mpm.finetune
local base = os.tmpname()
os.remove(base)
local function data(name) return root .. "/data/" .. name end

-- The schedule: the head warms up from 0.1x and decays to final_lr; the backbone is off before
-- unfreeze_at, then ramps from 1e-4 of the head's factor to all of it over catchup steps.
local o = { steps = 100, warmup = 10, final_lr = 1e-3, mode = "finetune", unfreeze_at = 20, catchup = 40 }
local head_f, bb_f = ft.schedule(o)
T.close(head_f(0), 0.1, 1e-12, "warm-up starts at 0.1x")
T.close(head_f(5), 0.55, 1e-12, "half-way through the warm-up")
T.close(head_f(10), 1, 1e-12, "full lr after the warm-up")
T.close(head_f(55), 1e-3 + (1 - 1e-3) * 0.5, 1e-12, "cosine half-way")
T.close(head_f(100), 1e-3, 1e-12, "decayed to final_lr")
T.equal(bb_f(19), 0, "backbone frozen before unfreeze_at")
T.close(bb_f(20), 1e-4 * head_f(20), 1e-15, "joins at ~0 lr")
T.close(bb_f(40), 0.5 * head_f(40), 1e-12, "half-way up the catch-up ramp")
T.close(bb_f(70), head_f(70), 1e-12, "then follows the head")
o.mode = "full"
T.close(select(2, ft.schedule(o))(5), head_f(5), 1e-12, "full mode trains the backbone from step 1")

mpm.manual_seed(3)
local ds, vds = mpm.data.open(data("jetclass_train.h5")), mpm.data.open(data("jetclass_val.h5"))
local pre = ds:fit_preprocessing { jets = 500 }
local loader = ds:loader { batch_size = 32, shuffle = true, seed = 1, preprocessing = pre, max_jets = 128, drop_last = true }
local val = vds:loader { batch_size = 64, seed = 2, preprocessing = pre, max_jets = 64 }
local function parts()
  local model = mpm.MPM { preset = "tiny" }
  return model:backbone(), mpm.nn.ClassAttentionClassifier(32, 10, { hidden = 16, heads = 2, depth = 1 })
end
local function snapshot(m) local s = {}; for k, t in pairs(m:state_dict()) do s[k] = t:clone() end; return s end
local function changed(m, before)
  local n = 0
  for k, t in pairs(m:state_dict()) do if (t - before[k]):abs():max():item() > 0 then n = n + 1 end end
  return n
end

-- Frozen until unfreeze_at: after 3 steps (lr factors at steps 0..2) only the head moved; after
-- 6 the backbone too, at the ramp's lr.
local bb, head = parts()
local bb0, head0 = snapshot(bb), snapshot(head)
local rows = {}
ft.run { backbone = bb, head = head, loader = loader, steps = 3, lr = 1e-3, unfreeze_at = 3, catchup = 2,
  warmup = 1, quiet = true, on_log = function(row) rows[#rows + 1] = row end }
T.equal(changed(bb, bb0), 0, "the frozen backbone did not change")
T.equal(changed(head, head0) > 0, true, "the head trained")
T.equal(rows[1].backbone_lr, 0, "backbone lr 0 while frozen (the lr a row shows is the next step's)")
bb, head = parts()
bb0 = snapshot(bb)
rows = {}
ft.run { backbone = bb, head = head, loader = loader, steps = 6, lr = 1e-3, unfreeze_at = 3, catchup = 2,
  warmup = 1, log_every = 1, quiet = true, on_log = function(row) rows[#rows + 1] = row end }
T.equal(changed(bb, bb0) > 0, true, "the backbone trains after unfreeze_at")
local hf, bf = ft.schedule { steps = 6, warmup = 1, final_lr = 1e-3, mode = "finetune", unfreeze_at = 3, catchup = 2 }
for _, row in ipairs(rows) do
  T.close(row.backbone_lr, 1e-3 * bf(row.step), 1e-12, "backbone lr at step " .. row.step)
  T.close(row.lr, 1e-3 * hf(row.step), 1e-12, "head lr at step " .. row.step)
end
bb, head = parts()
bb0 = snapshot(bb)
ft.run { backbone = bb, head = head, mode = "frozen", loader = loader, steps = 4, lr = 1e-3, quiet = true }
T.equal(changed(bb, bb0), 0, "frozen mode never trains the backbone")
T.equal(bb:parameters()[1].requires_grad, true, "the backbone is handed back trainable")

-- Early stopping keeps the best weights: the network handed back scores the validation set as
-- the best validation did, although later steps (a large lr) ended elsewhere.
bb, head = parts()
local r = ft.run { backbone = bb, head = head, mode = "full", loader = loader, val_loader = val, steps = 12, lr = 3e-2,
  val_every = 2, patience = 2, quiet = true }
local sum, n = 0, 0
mpm.manual_seed(20240917)
mpm.train.each_batch(val, 1, 1000, function(batch)
  local logits = r.predict(batch)
  sum = sum + mpm.nn.functional.cross_entropy(logits, batch.labels, { label_smoothing = 0.1 }):item()
  n = n + 1
end)
T.close(sum / n, r.best.loss, 1e-5, "the kept weights give the best validation loss")
T.equal(r.best.step <= r.step, true, "best step within the run")

-- Early stopping waits for a late-joining backbone to catch up: with a flat validation loss
-- (lr 0) and patience 1 a run would stop at its second validation; in finetune mode it runs on
-- until unfreeze_at + catchup (8) and stops at the first validation without a lower loss after it.
bb, head = parts()
local flat = ft.run { backbone = bb, head = head, loader = loader, val_loader = val, steps = 30, lr = 0, unfreeze_at = 4,
  catchup = 4, val_every = 1, patience = 1, quiet = true }
T.equal(flat.stopped_early, true, "a flat run stops early")
T.equal(flat.step, 8, "but not before the backbone has caught up")
bb, head = parts()
T.equal(ft.run { backbone = bb, head = head, mode = "full", loader = loader, val_loader = val, steps = 30, lr = 0,
  val_every = 1, patience = 1, quiet = true }.step, 2, "with everything trained from step 1 it stops at once")

-- Resume: a run that fails after its checkpoint at step 4 and is resumed gives the losses of
-- an uninterrupted one.
local function resumable(out, fail_at, resume)
  mpm.manual_seed(7)
  local b, h = parts()
  return ft.run { backbone = b, head = h, loader = loader, val_loader = val, steps = 8, lr = 1e-3, unfreeze_at = 2,
    catchup = 3, val_every = 4, out = out, resume = resume, overwrite = not resume, quiet = true,
    on_log = fail_at and function(row) if row.step == fail_at then error("stopped on purpose") end end or nil }
end
local whole = resumable(base .. "_whole")
T.raises(function() resumable(base .. "_cut", 6) end, "stopped on purpose")
mpm.manual_seed(99) -- the resumed run must not depend on the generator's state at start
local resumed = resumable(base .. "_cut", nil, true)
T.equal(resumed.last_loss, whole.last_loss, "resumed run: last loss identical")
local function losses(path)
  local out = {}
  local d = mpm.plot.read_metrics(path)
  for i, s in ipairs(d.step) do if d.loss[i] == d.loss[i] then out[s] = d.loss[i] end end
  return out
end
local lw, lc = losses(base .. "_whole/metrics.csv"), losses(base .. "_cut/metrics.csv")
for step = 1, 8 do T.equal(lc[step], lw[step], "resumed run, step " .. step .. " loss") end

-- Predictions: 0-based labels as in the data files, readable with h5py's numbering.
local scores, labels, indices = mpm.downstream.predict(r.predict, val)
T.equal(scores:shape()[2], 10, "one score per class")
T.close(scores:sum(2):min():item(), 1, 1e-5, "scores are probabilities")
mpm.downstream.save_predictions(base .. "_pred.h5", scores, labels, { jet_indices = indices })
local saved = mpm.load(base .. "_pred.h5")
T.equal(saved.index_base, 0, "index_base attribute")
T.equal(saved.labels:min():item() >= 0 and saved.labels:max():item() <= 9, true, "labels 0..9")
T.equal((saved.labels + 1):eq(labels):all():item(), true, "shifted from the 1-based Lua labels")

-- Bad inputs, one line each.
T.raises(function() ft.run { head = head, loader = loader, steps = 2, mode = "frozen" } end, "mode 'frozen' needs a backbone")
T.raises(function() ft.run { head = head, loader = loader, steps = 2, mode = "thawed" } end, "mode must be")
T.raises(function() ft.run { head = head, loader = loader, steps = 2, lrr = 1 } end, "unknown option 'lrr'")
local small_head = mpm.nn.ClassAttentionClassifier(15, 3)
T.raises(function() ft.run { head = small_head, loader = loader, steps = 1, quiet = true } end, "step 1:")
mpm.save(base .. "_notbb.h5", { x = mpm.zeros(2) })
T.raises(function() mpm.backbone.from_spec(base .. "_notbb.h5") end, "is not a saved MPM backbone")
T.raises(function() mpm.backbone.from_spec(base .. "_nothing.h5") end, "no such file")
local function script(name, ...) return T.script(root .. "/examples/" .. name .. ".lua", ...) end
local common = { "--preset", "tiny", "--epochs", "1", "--batch-size", "32", "--val-jets", "64", "--quiet" }
T.raises(function() script("jetclass", "--train-jets", "5000", "--out", base .. "_big", table.unpack(common)) end,
  "%-%-train%-jets 5000: .* has only 3000 jets")
T.raises(function() script("cwola", "--n-signal", "400", "--out", base .. "_cw_big", table.unpack(common)) end,
  "has only 300 signal jets")
T.raises(function() script("cwola", "--data", data("btag_train.h5"), "--out", base .. "_cw_btag", table.unpack(common)) end,
  "has no class 'QCD' %(its classes: light, charm, bottom%)")

-- The protocol scripts end to end: a tiny sweep (resumed the second time), CWoLa and BTag runs.
local sweep = base .. "_sweep"
local args = { "--sweep", "--backbones", "random,none", "--sizes", "64,128", "--seeds", "1", "--out", sweep, table.unpack(common) }
local first = script("jetclass", table.unpack(args))
T.equal(#first, 4, "2 backbones x 2 sizes x 1 seed")
local t0 = mpm.clock()
local again = script("jetclass", table.unpack(args))
T.equal(again[3].accuracy, first[3].accuracy, "finished runs are read back")
T.equal(mpm.clock() - t0 < 5, true, "and not redone")
T.equal(files.exists(sweep .. "/sweep.csv"), true, "the sweep CSV")
if mpm.plot.available() then T.equal(files.exists(sweep .. "/accuracy_vs_jets.png"), true, "the figure") end
local cw = script("cwola", "--n-signal", "50", "--out", base .. "_cw", table.unpack(common))
T.equal(type(cw.metrics.sic), "number", "CWoLa gives a SIC")
T.equal(cw.metrics.auc >= 0 and cw.metrics.auc <= 1, true, "and an AUC")
local bt = script("btag", "--train-jets", "128", "--out", base .. "_bt", table.unpack(common))
T.equal(#bt.metrics.confusion_matrix, 3, "BTag: three flavours")
local json = mpm.json.decode(io.open(base .. "_bt/result.json"):read("a"))
T.equal(json.options.train_jets, 128, "result.json records the options")
T.equal(json.protocol, "btag", "and the protocol")
-- The b-tagging figures of merit, recomputed by hand from predictions.h5: D_b on the b and light
-- jets only, light rejection = 1 / light efficiency at 70% b efficiency.
local predictions = mpm.load(base .. "_bt/predictions.h5")
local scores, flavour = predictions.scores, predictions.labels + 1
local fc = mpm.downstream.B_TAGGING.charm_fraction
local d, keep = {}, {}
for i, row in ipairs(scores:tolist()) do
  local label = flavour[i]:item()
  if label == 1 or label == 3 then
    d[#d + 1] = math.log(row[3] / (fc * row[2] + (1 - fc) * row[1]))
    keep[#keep + 1] = label == 3 and 1 or 0
  end
end
T.close(bt.metrics.light_rejection_70, mpm.metrics.rejection(mpm.tensor(d), mpm.tensor(keep):long(), { efficiency = 0.7 }),
  1e-6, "BTag: light rejection at 70% b efficiency")
T.equal(bt.metrics.c_rejection_77 >= 1, true, "and the c rejection at 77%")

os.execute("rm -rf " .. files.quote(base) .. "_*")
