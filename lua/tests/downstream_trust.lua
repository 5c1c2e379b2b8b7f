-- Numbers a physicist can trust from the protocol scripts: a result is reused only for the
-- identical experiment (keyed by content and options, never by folder names), data of the wrong
-- kind and options that cannot give a meaningful number are refused in one line, and a run
-- reads at a glance (chance level, test-set error, the random-init arm beside it).
local T = require "mpm.testing"
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
local files = mpm.files
local base = os.tmpname()
os.remove(base)
local function data(name) return root .. "/data/" .. name end
local small = { "--preset", "tiny", "--epochs", "2", "--batch-size", "32", "--val-jets", "32", "--test-jets", "64", "--quiet" }
local function script(name, ...)
  local args = { ... }
  for _, a in ipairs(small) do args[#args + 1] = a end
  return T.script(root .. "/examples/" .. name .. ".lua", table.unpack(args))
end
-- What a script printed, line by line.
local function printed(fn)
  local lines, saved = {}, print
  print = function(...) lines[#lines + 1] = table.concat({ ... }, " ") end
  local ok, err = pcall(fn)
  print = saved
  if not ok then error(err, 0) end
  return table.concat(lines, "\n")
end

-- Two tiny backbones in folders of the same name, with different weights.
local function backbone(dir, seed)
  files.mkdir(dir)
  mpm.manual_seed(seed)
  local path = files.join(dir, "backbone.h5")
  mpm.MPM { preset = "tiny" }:save_backbone(path, { preset = "tiny" })
  return path
end
local a = backbone(base .. "_a/cfm", 1)
local b = backbone(base .. "_b/cfm", 2)

-- A single run into an --out holding another experiment's result is refused, naming what differs;
-- the identical experiment is reused; --overwrite runs it anew.
local out = base .. "_runs/jc"
local first = script("jetclass", "--backbone", "random", "--train-jets", "32", "--out", out)
T.raises(function() script("jetclass", "--backbone", a, "--train-jets", "32", "--out", out) end,
  "holds the result of another experiment %(options%.backbone random %-> table")
T.raises(function() script("jetclass", "--backbone", "random", "--train-jets", "32", "--seed", "2", "--out", out) end,
  "another experiment %(options%.seed 1 %-> 2%)")
local text = printed(function() script("jetclass", "--backbone", "random", "--train-jets", "32", "--out", out) end)
T.equal(text:find("from an earlier run of the same experiment", 1, true) ~= nil, true, text)
local again = script("jetclass", "--backbone", "random", "--train-jets", "32", "--seed", "2", "--out", out, "--overwrite")
T.equal(again.options.seed, 2, "--overwrite replaces the result")
T.equal(first.key_digest ~= again.key_digest, true, "the key follows the seed")

-- A glance: the metric with its test-set error and the chance level; a pre-trained run beside a
-- random-init run of the same settings reports the difference with its error.
local random_out, cfm_out = base .. "_side/random", base .. "_side/cfm"
script("jetclass", "--backbone", "random", "--train-jets", "32", "--out", random_out)
text = printed(function() script("jetclass", "--backbone", a, "--train-jets", "32", "--out", cfm_out) end)
T.equal(text:match("accuracy %d%.%d+ %+%- %d%.%d+ on 64 test jets, chance %d%.%d+") ~= nil, true, text)
T.equal(text:match("vs random init with the same settings %(.-side/random/result%.json%): accuracy [%+%-]%d%.%d+ %+%- %d%.%d+") ~= nil,
  true, text)
local saved = mpm.downstream.read_result(cfm_out .. "/result.json")
T.equal(saved.arms:find("pre%-trained: lr 0%.0003") ~= nil, true, "the arms' settings are in result.json")
T.equal(saved.metrics.confusion_classes[1], mpm.data.JETCLASS_CLASSES[1], "class names beside the confusion matrix")

-- Sweeps key their entries by the experiment: backbones in folders of the same name and a rerun
-- with other settings are new entries, not earlier results under a reused name.
local sweep = base .. "_sweep"
local rows = script("jetclass", "--sweep", "--backbones", a .. "," .. b, "--sizes", "32", "--seeds", "1", "--out", sweep)
T.equal(#rows, 2, "two entries")
T.equal(rows[1][ "accuracy" ] ~= nil and rows[2].accuracy ~= nil, true, "both ran")
local function entries()
  local n = 0
  for _, name in ipairs(files.list(sweep)) do if name:match("cfm_n32_s1_%x+$") then n = n + 1 end end
  return n
end
T.equal(entries(), 2, "two entries for two backbones in folders called cfm")
local names = {}
for _, row in ipairs(rows) do names[#names + 1] = row.backbone end
T.equal(names[1] ~= names[2], true, "told apart in the CSV: " .. table.concat(names, ", "))
script("jetclass", "--sweep", "--backbones", a, "--sizes", "32", "--seeds", "1", "--out", sweep, "--lr", "1e-3")
T.equal(entries(), 3, "a rerun with another --lr is a new entry, not an earlier result")
script("jetclass", "--sweep", "--backbones", a, "--sizes", "32", "--seeds", "1", "--out", sweep, "--lr", "1e-3")
T.equal(entries(), 3, "the identical rerun reuses its entry")

-- The sweep figure: log x fitted to the sizes, a chance line and the arms' settings as a caption.
if mpm.plot.available() then
  T.equal(files.kind(sweep .. "/accuracy_vs_jets.png"), "file", "the sweep figure")
  T.raises(function()
    mpm.plot.lines { out = base .. "_p.png", series = { { x = { 1, 2 }, y = { 1, 2 } } }, hlines = { { y = 0 / 0 } } }
  end, "each of hlines is {y = number, title = text}")
end

-- Data that does not fit the protocol, named in one line.
T.raises(function() script("jetclass", "--data", data("btag_train.h5"), "--out", base .. "_bad1") end,
  "^%-%-data .*btag_train%.h5 holds btag jets %(classes light, charm, bottom%); the jetclass protocol needs jetclass jets$")
T.raises(function() script("jetclass", "--test", data("btag_test.h5"), "--out", base .. "_bad2") end,
  "^%-%-test .*btag_test%.h5 holds btag jets")
T.raises(function() script("btag", "--data", data("jetclass_train.h5"), "--out", base .. "_bad3") end,
  "^%-%-data .*jetclass_train%.h5 holds jetclass jets %(classes QCD, .*%); the btag protocol needs btag jets$")

-- Options that cannot give a meaningful number.
T.raises(function() script("jetclass", "--lr", "-1", "--out", base .. "_bad4") end, "^%-%-lr %-1: a learning rate is positive")
T.raises(function() script("jetclass", "--train-jets", "0", "--out", base .. "_bad5") end,
  "^%-%-train%-jets 0: must be an integer of at least 1$")
T.raises(function() script("jetclass", "--sweep", "--sizes", ",", "--out", base .. "_bad6") end, "^%-%-sizes ,: no values$")
T.raises(function() script("jetclass", "--sweep", "--sizes", "100,100", "--out", base .. "_bad7") end,
  "^%-%-sizes 100,100: 100 is listed twice$")
T.raises(function() script("jetclass", "--sweep", "--seeds", "1,x", "--out", base .. "_bad8") end,
  "^%-%-seeds 1,x: 'x' is not a positive integer$")
T.equal(files.exists(base .. "_bad5/result.json"), false, "nothing written for a refused run")

os.execute("rm -rf '" .. base .. "'_*")
