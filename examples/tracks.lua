-- Heavy-track identification (MPMv2 Section 5.2.5, Figure 4c): is a track of a BTag-like jet
-- from the primary vertex, a charm hadron, a bottom hadron, or other (track_type 0..3)? A
-- per-track MLP (mpm.nn.PerTrackMLP: 3 blocks of width 128, LayerNorm, dropout 0.2) on the
-- backbone's particle outputs (registers removed) -> 4 classes, class-weighted cross-entropy
-- with label smoothing 0.1 (--class-weights reference: the reference's [0.3868, 1.4342, 3.3482,
-- 2.3896]; inverse: n_tracks / (4 n_c) from the training tracks). Scored with the balanced
-- accuracy (mean recall of the 4 classes), over all test tracks and for each track
-- multiplicity 5..15 (the tracks of jets with that many tracks).
--
--   mpmlua examples/tracks.lua --backbone runs/cfm/backbone.h5 --out runs/tracks
--   mpmlua examples/tracks.lua --sweep --backbones runs/cfm/backbone.h5,random,none --seeds 1,2,3
--
-- One run writes OUT/result.json (metrics.balanced_accuracy, accuracy, confusion_matrix,
-- class_weights, by_tracks = the per-multiplicity values), OUT/tracks.h5 (per test track:
-- scores [T, 4], labels 0..3, multiplicity; track_offsets and jet_indices, 0-based) and
-- OUT/balanced_accuracy_vs_tracks.png; the sweep (backbones x seeds) writes OUT/sweep.csv,
-- OUT/curves.csv and the figure with the spread over seeds. --help lists the options.
local downstream = mpm.downstream
return downstream.protocol({
  name = "tracks", kind = "btag", synopsis = "mpmlua examples/tracks.lua [options]",
  defaults = { ["train-jets"] = 6000, epochs = 60, data = "data/btag_train.h5", val = "data/btag_val.h5",
    test = "data/btag_test.h5", ["fit-data"] = "data/jetclass_train.h5", sizes = "6000" },
  size = { option = "train-jets", column = "train_jets", label = "number of training jets",
    help = "training jets (the first N of --data)" },
  metric = { name = "balanced_accuracy", label = "balanced accuracy (4 track types)", extra = { "accuracy" } },
  options = {
    { "class-weights", "reference", "string", "cross-entropy class weights: reference or inverse (training frequencies)" },
  },
  curves = {
    { name = "by_tracks", x = "tracks", y = "balanced_accuracy", figure = "balanced_accuracy_vs_tracks.png",
      xlabel = "number of tracks in the jet", ylabel = "balanced accuracy (4 track types)",
      title = "Heavy-track identification (Figure 4c)" },
  },
  title = "Heavy-track identification",
  run = function(o, r)
    if o.class_weights ~= "reference" and o.class_weights ~= "inverse" then
      error(("--class-weights must be reference or inverse, got '%s'"):format(o.class_weights), 0)
    end
    return { task = downstream.track_task { out = r.out, weights = o.class_weights } }
  end,
}, arg)
