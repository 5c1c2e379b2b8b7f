-- JetClass classification (MPMv2 Section 5.2.1, Figure 3a): is my backbone any good?
-- A class-attention head on the backbone's output (registers included) learns the 10 JetClass
-- classes; the backbone starts frozen and is fine-tuned after a catch-up ramp (--mode finetune),
-- or stays frozen (--mode frozen). Baselines: --backbone random (the same encoder, random init,
-- everything trained from step 1) and --backbone none (the head alone on the constituents).
--
--   mpmlua examples/jetclass.lua --backbone runs/cfm/backbone.h5 --train-jets 1000 --out runs/jc
--   mpmlua examples/jetclass.lua --sweep --backbones runs/cfm/backbone.h5,random --out runs/jc_sweep
--
-- One run writes OUT/result.json (accuracy, balanced accuracy, confusion matrix, options, times)
-- and OUT/predictions.h5 (scores [N, 10], labels 0..9 as in the data files, jet_indices). The
-- sweep (backbones x --sizes x --seeds) writes OUT/sweep.csv and OUT/accuracy_vs_jets.png
-- (Figure 3a: accuracy against the number of training jets, mean and spread over seeds); a
-- stopped sweep continues where it left off. Defaults fit the bundled files (3000 training
-- jets); `make data N=...` generates larger ones (docs/downstream.md). --help lists the options.
return mpm.downstream.protocol({
  name = "jetclass", kind = "jetclass", synopsis = "mpmlua examples/jetclass.lua [options]",
  classes = 10, class_names = table.concat(mpm.data.JETCLASS_CLASSES, ","),
  defaults = { ["train-jets"] = 1000, data = "data/jetclass_train.h5", val = "data/jetclass_val.h5",
    test = "data/jetclass_test.h5", ["fit-data"] = "data/jetclass_train.h5", sizes = "100,300,1000,3000" },
  size = { option = "train-jets", column = "train_jets", label = "number of training jets",
    help = "training jets (the first N of --data)" },
  metric = { name = "accuracy", label = "test accuracy (10 classes)", extra = { "balanced_accuracy" } },
  figure = "accuracy_vs_jets.png", title = "JetClass classification: data efficiency",
  run = function() return {} end,
}, arg)
