-- Per-particle downstream tasks on BTag-like jets (MPMv2 Sections 5.2.4-5.2.5), run by
-- mpm.downstream.classify{task = ...} and the protocol driver like the jet-level ones:
--
--   vertexing: mpm.nn.EdgeHead on the backbone's particle outputs (registers removed), one
--     logit per pair i < j of tracks of a jet, trained with the focal loss (gamma 3, pos_weight
--     0.778) on "same vtx_id"; on the test set each jet's tracks are partitioned into the
--     connected components of the pairs with logit > 0, and scored with the standard ARI
--     (scikit-learn's) and the reference code's pair-based ARI, overall and in bins of the
--     number of secondary vertices.
--   tracks: mpm.nn.PerTrackMLP -> 4 classes of track_type (primary, charm, bottom, other),
--     class-weighted cross-entropy with label smoothing 0.1; balanced accuracy overall and for
--     each track multiplicity.
--
-- The number of secondary vertices of a jet is the number of distinct vtx_id values of its
-- tracks other than 0 (vtx_id 0 is the primary vertex in the data files: docs/data.md,
-- tools/jetgen); jets without a primary-vertex track count all their vertices.
--
-- These tasks join mpm.downstream (this module extends that table and returns it), so the
-- protocols reach every task alike: mpm.downstream.vertexing_task, mpm.downstream.track_task.
local mpm = require "mpm.core"
local check_options = require("mpm.options").check
local stats = require "mpm.stats"
local nn = require "mpm.nn"
local data = require "mpm.data"
local train = require "mpm.train"
local downstream = require "mpm.downstream"
local files = mpm.files
local F = nn.functional
-- The track classes: the track_type (origin) codes of the Swift schema.
local track_classes = #data.TRACK_ORIGINS

--- mpm.downstream.TRACK_CLASS_WEIGHTS: the MPMv2 reference's class weights of the track
--- identification loss (primary, charm, bottom, other).
downstream.TRACK_CLASS_WEIGHTS = { 0.3868, 1.4342, 3.3482, 2.3896 }
--- mpm.downstream.SECONDARY_VERTEX_BINS: the bins of Figure 4b (number of secondary vertices).
downstream.SECONDARY_VERTEX_BINS = { 1, 2, 3, 4, 5, 6 }
--- mpm.downstream.TRACK_MULTIPLICITIES: the track multiplicities of Figure 4c.
downstream.TRACK_MULTIPLICITIES = { 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 }

-- Runs the trained network over a whole loader: fn(batch, logits) per batch.
local function each_prediction(fit, loader, fn)
  train.each_batch(loader, 1, math.huge, function(batch) fn(batch, (fit.predict(batch))) end)
end

-- Number of rows of each set, [B] int64.
local function set_sizes(offsets)
  local b = offsets:size(1) - 1
  return offsets:narrow(1, 2, b) - offsets:narrow(1, 1, b)
end

local function offsets_of(counts)
  local o = { 0 }
  for i, n in ipairs(counts) do o[i + 1] = o[i] + n end
  return mpm.tensor(o):long()
end

--- mpm.downstream.pair_targets(batch) -> float [P]: 1 where the two tracks of a pair (layout
--- of mpm.set_pairs over batch.offsets) share a vertex_id, else 0.
function downstream.pair_targets(batch)
  local first, second = mpm.set_pairs(batch.offsets)
  local ids = batch.vertex_ids
  if not ids then error("vertexing: the batch has no vertex_ids (a BTag-like file with vtx_id is needed)", 0) end
  return ids:index_select(1, first):eq(ids:index_select(1, second)):float()
end

--- mpm.downstream.secondary_vertices(batch) -> list: per jet, the number of distinct
--- vertex ids of its tracks other than the primary vertex (vtx_id 0 in the file, 1 in Lua).
function downstream.secondary_vertices(batch)
  local ids, o = batch.vertex_ids:tolist(), batch.offsets:tolist()
  local out = {}
  for b = 1, #o - 1 do
    local seen, n = {}, 0
    for t = o[b] + 1, o[b + 1] do
      local v = ids[t]
      if v ~= 1 and not seen[v] then seen[v] = true; n = n + 1 end
    end
    out[b] = n
  end
  return out
end

--- mpm.downstream.vertexing_task{out=, gamma=3, pos_weight=0.778} -> task for
--- mpm.downstream.classify: EdgeHead, focal loss, and the test-set evaluation (writes
--- out/vertexing.h5; metrics ari, ari_reference, edge_accuracy, edge_auc, by_vertices).
function downstream.vertexing_task(options)
  local o = check_options("downstream.vertexing_task", options, { out = "required", gamma = 3, pos_weight = 0.778 }, 2)
  local function loss(logits, batch)
    if logits:numel() == 0 then return logits:sum() end
    return F.focal_loss(logits, downstream.pair_targets(batch), { gamma = o.gamma, pos_weight = o.pos_weight })
  end
  local function accuracy(logits, batch)
    return logits:gt(0):float():eq(downstream.pair_targets(batch)):sum():item(), logits:numel()
  end
  local function evaluate(fit, loader, test_ds)
    local jets = { index = {}, tracks = {}, nsv = {}, ari = {}, ari_reference = {}, pairs = {} }
    local logits_all, targets_all, clusters_all = {}, {}, {}
    each_prediction(fit, loader, function(batch, logits)
      local ari, ari_ref, clusters = mpm.metrics.pair_partition(logits, batch.vertex_ids, batch.offsets)
      local sizes, nsv = set_sizes(batch.offsets):tolist(), downstream.secondary_vertices(batch)
      local index, a, r = batch.jet_indices:tolist(), ari:tolist(), ari_ref:tolist()
      for b = 1, #sizes do
        local k = #jets.index + 1
        jets.index[k], jets.tracks[k], jets.nsv[k] = index[b] - 1, sizes[b], nsv[b]
        jets.ari[k], jets.ari_reference[k], jets.pairs[k] = a[b], r[b], sizes[b] * (sizes[b] - 1) // 2
      end
      logits_all[#logits_all + 1] = logits
      targets_all[#targets_all + 1] = downstream.pair_targets(batch)
      clusters_all[#clusters_all + 1] = clusters
    end)
    if #jets.index == 0 then error("vertexing: the test loader yields no jets", 0) end
    local logits, targets = mpm.cat(logits_all, 1), mpm.cat(targets_all, 1)
    -- Averages over jets with at least 2 tracks (a single track has no pair: ARI 1 by definition).
    local all, all_ref, bins = {}, {}, {}
    for k = 1, #jets.index do
      if jets.tracks[k] >= 2 then
        all[#all + 1], all_ref[#all_ref + 1] = jets.ari[k], jets.ari_reference[k]
        local bin = bins[jets.nsv[k]] or { ari = {}, ari_reference = {} }
        bins[jets.nsv[k]] = bin
        table.insert(bin.ari, jets.ari[k])
        table.insert(bin.ari_reference, jets.ari_reference[k])
      end
    end
    local by_vertices = {}
    for _, n in ipairs(downstream.SECONDARY_VERTEX_BINS) do
      local bin = bins[n]
      if bin then
        local ari, reference = stats.summary(bin.ari), stats.summary(bin.ari_reference)
        by_vertices[#by_vertices + 1] = { secondary_vertices = n, jets = ari.n, ari = ari.mean, ari_std = ari.sd,
          ari_reference = reference.mean, ari_reference_std = reference.sd }
      end
    end
    local metrics = {
      ari = stats.summary(all).mean, ari_reference = stats.summary(all_ref).mean, jets_scored = #all,
      ari_no_secondary = bins[0] and stats.summary(bins[0].ari).mean or nil,
      ari_reference_no_secondary = bins[0] and stats.summary(bins[0].ari_reference).mean or nil,
      edge_accuracy = logits:numel() > 0 and logits:gt(0):float():eq(targets):float():mean():item() or nil,
      by_vertices = by_vertices,
      -- A partition unrelated to the vertices scores an adjusted Rand index of 0 on average.
      chance = { ari = 0, ari_reference = 0 },
    }
    local positives = targets:sum():item()
    if positives > 0 and positives < targets:numel() then metrics.edge_auc = mpm.metrics.roc_auc(logits, targets) end
    mpm.save(files.join(o.out, "vertexing.h5"), {
      jet_indices = mpm.tensor(jets.index):long(), tracks = mpm.tensor(jets.tracks):long(),
      secondary_vertices = mpm.tensor(jets.nsv):long(), ari = mpm.tensor(jets.ari), ari_reference = mpm.tensor(jets.ari_reference),
      track_offsets = offsets_of(jets.tracks), pair_offsets = offsets_of(jets.pairs), pair_logits = logits,
      pair_targets = targets, clusters = mpm.cat(clusters_all, 1) - 1, index_base = 0, file = test_ds.path,
    })
    return metrics, #jets.index
  end
  return { head = function(dim) return nn.EdgeHead(dim) end, input = "particles", loss = loss,
    accuracy = accuracy, evaluate = evaluate,
    key = { name = "vertexing", gamma = o.gamma, pos_weight = o.pos_weight } }
end

--- mpm.downstream.track_class_weights(loader) -> float [4]: inverse class frequencies of the
--- tracks of one epoch of loader, n_tracks / (4 n_c) (scikit-learn's "balanced" weights; a
--- class never seen gets weight 1).
function downstream.track_class_weights(loader)
  local counts = mpm.zeros(track_classes)
  train.each_batch(loader, 1, math.huge, function(batch)
    counts = counts + batch.track_types:one_hot(track_classes):float():sum(1)
  end)
  local total, out = counts:sum():item(), {}
  for c, n in ipairs(counts:tolist()) do out[c] = n > 0 and total / (track_classes * n) or 1 end
  return mpm.tensor(out)
end

--- mpm.downstream.track_task{out=, weights="reference" | "inverse" | {w1..w4},
--- label_smoothing=0.1} -> task for mpm.downstream.classify: PerTrackMLP -> 4 track types,
--- class-weighted cross-entropy (reference weights, or inverse frequencies of the training
--- loader's tracks, found when the run starts), and the test-set evaluation (writes
--- out/tracks.h5; metrics balanced_accuracy, accuracy, class_weights, by_tracks).
function downstream.track_task(options)
  local o = check_options("downstream.track_task", options,
    { out = "required", weights = "reference", label_smoothing = 0.1 }, 2)
  local weights
  if o.weights == "reference" then
    weights = mpm.tensor(downstream.TRACK_CLASS_WEIGHTS)
  elseif o.weights == "inverse" then
    weights = nil -- from the training loader, in prepare
  elseif type(o.weights) == "table" and #o.weights == track_classes then
    weights = mpm.tensor(o.weights)
  else
    error(("track_task: weights must be 'reference', 'inverse' or 4 numbers, got %s"):format(tostring(o.weights)), 2)
  end
  local function types_of(batch)
    if not batch.track_types then error("tracks: the batch has no track_types (a BTag-like file with track_type is needed)", 0) end
    return batch.track_types
  end
  local function loss(logits, batch)
    return F.cross_entropy(logits, types_of(batch), { weight = weights, label_smoothing = o.label_smoothing })
  end
  local function accuracy(logits, batch)
    return logits:argmax(2):eq(types_of(batch)):sum():item(), logits:size(1)
  end
  local function evaluate(fit, loader, test_ds)
    local scores, labels, multiplicity, sizes, index = {}, {}, {}, {}, {}
    each_prediction(fit, loader, function(batch, logits)
      scores[#scores + 1] = mpm.softmax(logits, 2)
      labels[#labels + 1] = types_of(batch)
      local n = set_sizes(batch.offsets)
      multiplicity[#multiplicity + 1] = n:reshape(-1, 1):segment_expand(batch.offsets):reshape(-1)
      sizes[#sizes + 1], index[#index + 1] = n, batch.jet_indices
    end)
    if #scores == 0 then error("tracks: the test loader yields no jets", 0) end
    local s, y, m = mpm.cat(scores, 1), mpm.cat(labels, 1), mpm.cat(multiplicity, 1)
    local pred = s:argmax(2)
    local values, counts = mpm.metrics.balanced_accuracy_by_group(pred, y, m)
    local by_tracks = {}
    for _, n in ipairs(downstream.TRACK_MULTIPLICITIES) do
      if values[n] then
        by_tracks[#by_tracks + 1] = { tracks = n, balanced_accuracy = values[n], track_count = counts[n], jets = counts[n] // n }
      end
    end
    local metrics = { balanced_accuracy = mpm.metrics.balanced_accuracy(pred, y), accuracy = mpm.metrics.accuracy(pred, y),
      confusion_matrix = mpm.metrics.confusion_matrix(pred, y, track_classes), confusion_classes = data.TRACK_ORIGINS,
      class_weights = weights:tolist(), by_tracks = by_tracks, chance = { balanced_accuracy = 1 / track_classes } }
    local jet_sizes = mpm.cat(sizes, 1)
    mpm.save(files.join(o.out, "tracks.h5"), { scores = s, labels = y - 1, multiplicity = m,
      track_offsets = offsets_of(jet_sizes:tolist()), jet_indices = mpm.cat(index, 1) - 1, index_base = 0,
      classes = table.concat(data.TRACK_ORIGINS, ","), file = test_ds.path })
    return metrics, jet_sizes:size(1)
  end
  local function prepare(loader) if not weights then weights = downstream.track_class_weights(loader) end end
  return { head = function(dim) return nn.PerTrackMLP(dim, track_classes) end, input = "particles", loss = loss,
    accuracy = accuracy, evaluate = evaluate, prepare = prepare, classes = track_classes,
    class_names = table.concat(data.TRACK_ORIGINS, ","),
    key = { name = "tracks", weights = o.weights, label_smoothing = o.label_smoothing } }
end

return downstream
