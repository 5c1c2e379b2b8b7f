-- examples/scorecard.lua at tiny sizes, after a tiny `make paper` in the same runs folder: it
-- pre-trains a Lua task and scores it beside make paper's built-in backbone, a backbone given
-- with --against and random init, reusing make paper's identical fine-tuning runs; its card's
-- numbers are those of the runs (the fine-tuning results' mean over seeds); a rerun reuses every run.
local T = require "mpm.testing"
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
local files = mpm.files
local out = os.tmpname()
os.remove(out)
files.mkdir(out)
mpm.manual_seed(5)
local other = files.join(out, "other")
files.mkdir(other)
mpm.MPM { preset = "tiny" }:save_backbone(files.join(other, "backbone.h5"), { preset = "tiny" })
local runs = files.join(out, "runs")
local budget = { "--preset", "tiny", "--steps", "3", "--batch-size", "16", "--sizes", "32", "--seeds", "1,2", "--epochs", "1",
  "--runs", runs, "--quiet" }
T.script(root .. "/examples/paper.lua", "--tasks", "reg", "--protocols", "jetclass", "--reconstruct-jets", "0",
  "--report", files.join(out, "report"), table.unpack(budget))
local paper_runs = #files.list(files.join(runs, "jetclass"))

local args = { "--task", root .. "/examples/tasks/energy_score.lua", "--probe-jets", "64",
  "--against", files.join(other, "backbone.h5"), "--out", files.join(out, "card"), table.unpack(budget) }
local rows = T.script(root .. "/examples/scorecard.lua", table.unpack(args))
T.equal(#rows, 4, "the task, make paper's reg, the --against backbone and random init")
T.equal(rows[1].backbone, "energy_score", "the task's row first")
T.equal(rows[2].backbone, "reg", "make paper's backbone at the same budget")
T.equal(rows[3].backbone, "other", "the --against backbone by its folder")
T.equal(rows[4].backbone, "random", "random init last")
T.equal(rows[4].n32_vs_random, nil, "random init is the reference")
T.equal(#files.list(files.join(runs, "jetclass")), paper_runs + 4,
  "two new runs each for the task and --against; make paper's reg and random runs reused")

-- The card's fine-tuning numbers are the mean of its runs' result.json accuracies.
local accuracies = {}
for _, name in ipairs(files.list(files.join(runs, "jetclass"))) do
  if name:match("^energy_score_n32_s%d_%x+$") then
    accuracies[#accuracies + 1] = mpm.downstream.read_result(files.join(runs, "jetclass/" .. name .. "/result.json")).metrics.accuracy
  end
end
T.equal(#accuracies, 2, "two seeds")
T.close(rows[1].n32, (accuracies[1] + accuracies[2]) / 2, 1e-12, "the card's mean is its runs' mean")
T.close(rows[1].n32_vs_random, rows[1].n32 - rows[4].n32, 1e-12, "and the difference from random init")
local columns, saved = mpm.tabular.read_csv(files.join(out, "card/card.csv"))
T.equal(columns[1], "backbone", "card.csv")
T.close(saved[1].n32, rows[1].n32, 1e-6, "card.csv holds the same numbers")

-- A rerun reuses the pre-training run and every fine-tuning run.
local again = T.script(root .. "/examples/scorecard.lua", table.unpack(args))
T.equal(again[1].n32, rows[1].n32, "the same card again")
T.equal(#files.list(files.join(runs, "jetclass")), paper_runs + 4, "no new run")
T.raises(function() T.script(root .. "/examples/scorecard.lua", "--out", files.join(out, "x")) end, "%-%-task is required")
os.execute("rm -rf " .. files.quote(out))
