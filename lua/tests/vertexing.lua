-- The per-particle downstream protocols (vertex finding, track identification) from Lua: the
-- pair layout of mpm.set_pairs / x:pair_abs_diff and the edge head, pairs never across jets,
-- the focal loss by hand, the reference ARI and the per-set scores, balanced accuracy per
-- multiplicity against a direct count, mpm.finetune with input = "particles", and both protocol
-- scripts end to end on the bundled BTag files at a tiny size (a resumed sweep included).
local T = require "mpm.testing"
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
local files, M, F = mpm.files, mpm.metrics, mpm.nn.functional
local base = os.tmpname()
os.remove(base)
local function data(name) return root .. "/data/" .. name end
mpm.manual_seed(5)

-- Pairs: sets of 3, 1, 2 rows; 1-based rows, pair offsets 0-based like every offsets tensor.
local offsets = mpm.tensor({ 0, 3, 4, 6 }, { dtype = "int64" })
local first, second, pair_offsets = mpm.set_pairs(offsets)
T.equal(first:tolist(), { 1, 1, 2, 5 }, "first members")
T.equal(second:tolist(), { 2, 3, 3, 6 }, "second members")
T.equal(pair_offsets:tolist(), { 0, 3, 3, 4 }, "a set of one row owns no pair")
local x = mpm.randn(6, 4)
local d = x:pair_abs_diff(offsets)
T.close((d - (x:index_select(1, first) - x:index_select(1, second)):abs()):abs():max():item(), 0, 0, "pair_abs_diff = |x_i - x_j|")
local head = mpm.nn.EdgeHead(4, { hidden = 8 })
local logits, po = head(x, offsets)
T.equal(logits:size(), { 4 }, "one logit per pair")
T.equal(po:tolist(), pair_offsets:tolist(), "and the pair offsets")
T.equal(mpm.nn.PerTrackMLP(4, 4)(x):size(), { 6, 4 }, "per-track logits")
T.raises(function() mpm.nn.EdgeHead(4, { hiden = 8 }) end, "unknown option 'hiden'")
T.raises(function() x:pair_abs_diff(mpm.tensor({ 0, 5 }, { dtype = "int64" })) end, "end at 5 but the packed tensor has 6 rows")

-- Focal loss by hand (gamma 3, pos_weight 0.778).
local z, y = { 2.0, -1.0, 0.5 }, { 1.0, 0.0, 0.0 }
local want = 0
for i = 1, 3 do
  local p = 1 / (1 + math.exp(-z[i]))
  want = want + (y[i] == 1 and -0.778 * (1 - p) ^ 3 * math.log(p) or -(p ^ 3) * math.log(1 - p))
end
T.close(F.focal_loss(mpm.tensor(z), mpm.tensor(y)):item(), want / 3, 1e-6, "focal loss")
T.raises(function() F.focal_loss(mpm.tensor(z), mpm.tensor(y), { gama = 2 }) end, "unknown option 'gama'")

-- Reference ARI: n = 3 perfect is 1, n = 2 wrong is -1, n = 1 is 1 by definition.
T.close(M.adjusted_rand_index_reference({ 1, -1, -1 }, { 1, 1, 2 }), 1, 1e-12, "reference ARI, perfect")
T.close(M.adjusted_rand_index_reference({ -1 }, { 4, 4 }), -1, 1e-12, "reference ARI, wrong pair")
T.equal(M.adjusted_rand_index_reference(mpm.zeros(0), { 3 }), 1, "reference ARI, one point")
T.equal(M.connected_components({ 1, -1, -1, -1, 1, -1 }, 4):tolist(), { 1, 1, 2, 1 }, "components, 1-based")
local ari, ari_ref, clusters = M.pair_partition(mpm.tensor { 1, -1, -1, 3 }, mpm.tensor({ 1, 1, 2, 9, 3, 3 }, { dtype = "int64" }), offsets)
T.equal(ari:tolist(), { 1, 1, 1 }, "standard ARI per set")
T.close(ari_ref[1]:item(), 1, 1e-6, "reference ARI per set")
T.equal(clusters:tolist(), { 1, 1, 2, 1, 1, 1 }, "clusters per set, from 1")
T.close(ari[1]:item(), M.adjusted_rand_index({ 1, 1, 2 }, clusters:narrow(1, 1, 3)), 1e-6, "the standard ARI of the components")

-- Balanced accuracy per group against a direct count.
local pred, labels, groups = {}, {}, {}
for i = 1, 200 do pred[i], labels[i], groups[i] = math.random(4), math.random(4), 4 + math.random(3) end
local values, counts = M.balanced_accuracy_by_group(pred, labels, groups)
for g = 5, 7 do
  local p, l, n = {}, {}, 0
  for i = 1, 200 do if groups[i] == g then n = n + 1; p[n], l[n] = pred[i], labels[i] end end
  T.close(values[g], M.balanced_accuracy(p, l), 1e-12, "group " .. g)
  T.equal(counts[g], n, "group " .. g .. " count")
end

-- Batches of the BTag files: same-vertex pair targets and the number of secondary vertices.
local ds = mpm.data.open(data("btag_train.h5"))
local batch = ds:loader({ batch_size = 40 }):iter(1)()
local targets = mpm.downstream.pair_targets(batch)
local fi, se, pofs = mpm.set_pairs(batch.offsets)
local ids, o = batch.vertex_ids:tolist(), batch.offsets:tolist()
local ok = true
for b = 1, #o - 1 do
  for k = pofs[b]:item() + 1, pofs[b + 1]:item() do
    local i, j = fi[k]:item(), se[k]:item()
    if i <= o[b] or j > o[b + 1] or i >= j then ok = false end
    if (targets[k]:item() == 1) ~= (ids[i] == ids[j]) then ok = false end
  end
end
T.equal(ok, true, "pairs stay inside their jet and targets say 'same vertex'")
local nsv = mpm.downstream.secondary_vertices(batch)
local vmax = (batch.vertex_ids - 1):float():segment_max(batch.offsets):tolist()
for b = 1, #nsv do T.equal(nsv[b], math.tointeger(vmax[b]), "secondary vertices = largest vtx_id in these files, jet " .. b) end

-- mpm.finetune with a per-particle head (no backbone: the head reads the 15 input columns).
local pre = ds:fit_preprocessing { jets = 300 }
local loader = ds:loader { batch_size = 32, shuffle = true, seed = 1, preprocessing = pre, max_jets = 128 }
local task = mpm.downstream.vertexing_task { out = base }
local fit = mpm.finetune.run { head = mpm.nn.EdgeHead(15, { hidden = 16 }), loader = loader, val_loader = loader,
  steps = 6, val_every = 3, input = "particles", loss = task.loss, accuracy = task.accuracy, quiet = true, mode = "full" }
T.equal(fit.step, 6, "fine-tuned an edge head")
T.equal(fit.best.accuracy >= 0 and fit.best.accuracy <= 1, true, "the validation pair accuracy")
T.raises(function() mpm.finetune.run { head = head, loader = loader, steps = 1, input = "tracks" } end, "input must be 'set' or 'particles'")

-- Both protocols end to end, tiny.
local function script(name, ...) return T.script(root .. "/examples/" .. name .. ".lua", ...) end
local common = { "--preset", "tiny", "--epochs", "1", "--batch-size", "32", "--val-jets", "64", "--train-jets", "128", "--quiet" }
local vx = script("vertexing", "--backbone", "random", "--out", base .. "_vx", table.unpack(common))
T.equal(type(vx.metrics.ari), "number", "vertexing: standard ARI")
T.equal(type(vx.metrics.ari_reference), "number", "and the reference ARI, named apart")
T.equal(#vx.metrics.by_vertices >= 3, true, "ARI in bins of secondary vertices")
T.equal(vx.metrics.by_vertices[1].secondary_vertices, 1, "bins start at one secondary vertex")
local h = mpm.load(base .. "_vx/vertexing.h5")
T.equal(h.ari:size(1), vx.options.test_jets, "per-jet ARI in vertexing.h5")
T.equal(h.pair_offsets[h.pair_offsets:size(1)]:item(), h.pair_logits:size(1), "pair offsets cover the pair logits")
local tr = script("tracks", "--backbone", "none", "--class-weights", "inverse", "--out", base .. "_tr", table.unpack(common))
T.equal(type(tr.metrics.balanced_accuracy), "number", "tracks: balanced accuracy")
T.equal(tr.metrics.by_tracks[1].tracks >= 5, true, "per multiplicity from 5 tracks")
T.equal(#tr.metrics.class_weights, 4, "inverse-frequency class weights")
T.raises(function() script("tracks", "--class-weights", "flat", "--out", base .. "_bad", table.unpack(common)) end,
  "%-%-class%-weights must be reference or inverse")
local sweep = { "--sweep", "--backbones", "random,none", "--seeds", "1,2", "--sizes", "128", "--out", base .. "_sw",
  "--preset", "tiny", "--epochs", "1", "--batch-size", "32", "--val-jets", "64", "--quiet" }
local rows = script("vertexing", table.unpack(sweep))
T.equal(#rows, 4, "2 backbones x 2 seeds")
local t0 = mpm.clock()
T.equal(script("vertexing", table.unpack(sweep))[2].ari, rows[2].ari, "a finished sweep is read back")
T.equal(mpm.clock() - t0 < 5, true, "and not redone")
T.equal(files.exists(base .. "_sw/curves.csv"), true, "the per-bin curves CSV")
if mpm.plot.available() then
  T.equal(files.exists(base .. "_sw/ari_vs_vertices.png"), true, "Figure 4b")
  T.equal(files.exists(base .. "_tr/balanced_accuracy_vs_tracks.png"), true, "Figure 4c")
end
os.execute("rm -rf " .. files.quote(base) .. "*")
