-- Jet flavour out of distribution (MPMv2 Section 5.2.3, Figure 4a): a backbone pre-trained on
-- JetClass-like large-R jets classifies BTag-like R = 0.4 jets (charged tracks only) as light,
-- charm or bottom. The backbone's JetClass-fitted preprocessing is applied unchanged (that is
-- what makes these jets out of distribution); random init and no backbone get one fitted on
-- the JetClass training jets too, so every run sees the same inputs.
--
--   mpmlua examples/btag.lua --backbone runs/cfm/backbone.h5 --train-jets 2000 --out runs/btag
--   mpmlua examples/btag.lua --sweep --backbones runs/cfm/backbone.h5,random --out runs/btag_sweep
--
-- Writes OUT/result.json and OUT/predictions.h5 per run; the sweep writes OUT/sweep.csv and
-- OUT/accuracy_vs_jets.png (accuracy against the number of training jets per backbone, mean
-- and spread over seeds). The same options as examples/jetclass.lua (--help).
return mpm.downstream.protocol({
  name = "btag", kind = "btag", synopsis = "mpmlua examples/btag.lua [options]",
  classes = 3, class_names = table.concat(mpm.data.BTAG_CLASSES, ","),
  defaults = { ["train-jets"] = 2000, data = "data/btag_train.h5", val = "data/btag_val.h5",
    test = "data/btag_test.h5", ["fit-data"] = "data/jetclass_train.h5", sizes = "200,600,2000,6000" },
  size = { option = "train-jets", column = "train_jets", label = "number of training jets",
    help = "training jets (the first N of --data)" },
  metric = { name = "accuracy", label = "test accuracy (light, charm, bottom)", extra = { "balanced_accuracy" } },
  figure = "accuracy_vs_jets.png", title = "BTag flavour (out of distribution): data efficiency",
  run = function() return {} end,
}, arg)
