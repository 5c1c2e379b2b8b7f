-- Secondary-vertex finding (MPMv2 Section 5.2.4, Figure 4b): which tracks of a BTag-like jet
-- come from the same vertex? A twin-network edge head (mpm.nn.EdgeHead) on the backbone's
-- particle outputs (registers removed) gives one logit per pair i < j of tracks of a jet,
-- trained with the focal loss (gamma 3, pos_weight 0.778) on "same vtx_id". On the test set the
-- tracks of each jet are split into the connected components of the pairs with logit > 0 and
-- scored with two adjusted Rand indices, named apart: `ari` (the standard, hypergeometric one
-- of scikit-learn's adjusted_rand_score, of the connected components) and `ari_reference`
-- (the reference code's pair-decision formula, mpm.metrics.adjusted_rand_index_reference).
-- Both are averaged over the jets with at least 2 tracks, overall and per number of secondary
-- vertices (distinct vtx_id values other than 0, the primary vertex; bins 1..6).
--
--   mpmlua examples/vertexing.lua --backbone runs/cfm/backbone.h5 --out runs/vertexing
--   mpmlua examples/vertexing.lua --sweep --backbones runs/cfm/backbone.h5,random,none --seeds 1,2,3
--
-- One run writes OUT/result.json (metrics.ari, ari_reference, edge_accuracy, edge_auc and
-- by_vertices = the per-bin means), OUT/vertexing.h5 (per test jet: jet_indices, tracks,
-- secondary_vertices, ari, ari_reference; per track: clusters; per pair: pair_logits,
-- pair_targets; with track_offsets and pair_offsets; 0-based like the data files) and
-- OUT/ari_vs_vertices.png, OUT/ari_reference_vs_vertices.png. The sweep (backbones x seeds)
-- writes OUT/sweep.csv, OUT/curves.csv and the same two figures with the spread over seeds;
-- a stopped sweep continues where it left off. --help lists the options.
local downstream = mpm.downstream
return downstream.protocol({
  name = "vertexing", kind = "btag", synopsis = "mpmlua examples/vertexing.lua [options]",
  defaults = { ["train-jets"] = 6000, epochs = 60, data = "data/btag_train.h5", val = "data/btag_val.h5",
    test = "data/btag_test.h5", ["fit-data"] = "data/jetclass_train.h5", sizes = "6000" },
  size = { option = "train-jets", column = "train_jets", label = "number of training jets",
    help = "training jets (the first N of --data)" },
  metric = { name = "ari", label = "adjusted Rand index", extra = { "ari_reference", "edge_accuracy", "edge_auc" } },
  options = {
    { "gamma", 3, "number", "focal loss gamma" },
    { "pos-weight", 0.778, "number", "focal loss weight of the same-vertex pairs" },
  },
  curves = {
    { name = "by_vertices", x = "secondary_vertices", y = "ari", figure = "ari_vs_vertices.png",
      xlabel = "number of secondary vertices", ylabel = "adjusted Rand index (standard)",
      title = "Secondary-vertex finding (Figure 4b)" },
    { name = "by_vertices", x = "secondary_vertices", y = "ari_reference", figure = "ari_reference_vs_vertices.png",
      xlabel = "number of secondary vertices", ylabel = "adjusted Rand index (reference formula)",
      title = "Secondary-vertex finding, reference ARI (Figure 4b)" },
  },
  title = "Secondary-vertex finding",
  run = function(o, r)
    return { task = downstream.vertexing_task { out = r.out, gamma = o.gamma, pos_weight = o.pos_weight } }
  end,
}, arg)
