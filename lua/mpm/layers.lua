-- mpm.layers: the order of the Lua half, in one place. lua/mpm/init.lua loads the modules in
-- this order and assembles the public `mpm` table from them, docs/architecture.md states it,
-- and lua/tests/module_layers.lua checks every file against it, so the three cannot disagree.
--
-- The rule: a module requires what it uses at the top of its file and may require only modules
-- at a lower level (its own package's files excepted: mpm.nn.utils may require mpm.nn.module).
-- It returns its table and never writes into `mpm`, nor reaches a Lua-defined module through
-- `mpm.X` at call time; only init.lua writes the `mpm` table. A module's package is the first
-- two parts of its name (mpm.tasks.model is in mpm.tasks); its level is its package's.
--
-- Each entry: level, module, what the module owns, and what init.lua makes of it in `mpm`:
--   as = "nn"                  mpm.nn = require "mpm.nn"
--   exports = {MPM = "MPM"}    mpm.MPM = (require "mpm.tasks.model").MPM
-- An entry with neither is not loaded by init.lua (the REPL helpers, the test assertions).
local layers = {
  { level = 1, module = "mpm.core",
    owns = "the Swift half: tensors, Swift modules, data files and loaders, mpm.files, mpm.json, "
      .. "mpm.records, mpm.onnx, mpm.distributed, mpm.metrics" },
  { level = 2, module = "mpm.options", owns = "the option check of every function taking an options table",
    exports = { check_options = "check", check_option_names = "check_names" } },
  { level = 3, module = "mpm.autograd", owns = "grad-mode and precision scopes, autograd.Function, autograd.grad",
    as = "autograd", exports = { no_grad = "no_grad", enable_grad = "enable_grad", autocast = "autocast" } },
  { level = 4, module = "mpm.cli", owns = "command-line options of the scripts", as = "cli" },
  { level = 4, module = "mpm.stats", owns = "summary statistics of repeated measurements", as = "stats" },
  { level = 4, module = "mpm.tabular", owns = "CSV and JSONL files of rows", as = "tabular" },
  { level = 4, module = "mpm.progress", owns = "the progress line of a run", as = "progress" },
  { level = 5, module = "mpm.plot", owns = "gnuplot figures", as = "plot" },
  { level = 6, module = "mpm.nn", owns = "the module protocol, Lua-defined modules, nn.utils", as = "nn" },
  { level = 7, module = "mpm.optim", owns = "optimisers, the EMA, learning-rate schedules", as = "optim" },
  { level = 8, module = "mpm.data", owns = "fit-or-load preprocessing (the rest of mpm.data is Swift)", as = "data" },
  { level = 9, module = "mpm.tasks", owns = "the task protocol, the built-in tasks, the tokenizer, presets",
    as = "tasks" },
  { level = 9, module = "mpm.tasks.model", owns = "mpm.MPM and loading a saved backbone",
    exports = { MPM = "MPM", load_backbone = "load_backbone" } },
  { level = 10, module = "mpm.backbone", owns = "a backbone from a spec: a file, \"random\" or \"none\"",
    as = "backbone" },
  { level = 11, module = "mpm.train", owns = "the run object and the trainer's parts, train.run", as = "train" },
  { level = 12, module = "mpm.pretrain", owns = "the pre-training job from plain options", as = "pretrain" },
  { level = 13, module = "mpm.finetune", owns = "the downstream trainer", as = "finetune" },
  { level = 14, module = "mpm.downstream", owns = "the protocols' classification runs and sweeps",
    as = "downstream" },
  { level = 15, module = "mpm.downstream_protocol",
    owns = "the command line of a protocol script, added to mpm.downstream's table", as = "downstream" },
  { level = 15, module = "mpm.downstream_tracks",
    owns = "the per-particle protocols (vertexing, tracks), added to mpm.downstream's table", as = "downstream" },
  { level = 16, module = "mpm.explore", owns = "embeddings to look at in the REPL", as = "explore" },
  { level = 17, module = "mpm.help", owns = "docstrings and help()", exports = { doc = "doc", help = "help" } },
  { level = 17, module = "mpm.repl", owns = "how the REPL shows values and completes names" },
  { level = 17, module = "mpm.testing", owns = "assertions for test scripts" },
}

--- layers.package(name) -> "mpm.tasks" for "mpm.tasks.model": the first two parts of a module name.
function layers.package(name)
  return name:match("^[^.]+%.[^.]+") or name
end

--- layers.entry(name) -> the entry of a module or of the package holding it, or nil.
---   layers.entry("mpm.train.run").level   --> 11
function layers.entry(name)
  local holder = layers.package(name)
  local found
  for _, entry in ipairs(layers) do
    if entry.module == name then return entry end
    if entry.module == holder then found = found or entry end
  end
  return found
end

-- Which module put each Lua-defined name into `mpm` ("train", "nn.Module"), filled in by
-- init.lua as it loads the layers: the names mpm.core had before are the Swift half's.
layers.defined_by = {}

return layers
