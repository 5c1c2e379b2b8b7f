-- Inputs that cannot give a meaningful number are refused in one line, in the user's terms
-- (docs/reliability.md, "Inputs without a meaningful number", has a row per case here):
-- mpm.metrics on labels the scores cannot predict, mpm.explore on one class or on jet counts
-- that are not counts, mpm.plot on series that do not pair up or hold nothing to draw, and
-- mpm.stats / mpm.tabular on NaN. Also what the REPL walk of docs/explore.md needs: a class
-- name from a label tensor, plots into folders that do not exist yet, and gnuplot's reason.
local T = require "mpm.testing"
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
local data = root .. "/data/jetclass_test.h5"
local dir = os.tmpname()
os.remove(dir)
mpm.files.mkdir(dir)
local function path(name) return dir .. "/" .. name end

-- One line, matching pattern (plain text: the messages hold brackets and dots).
local function refused(f, text)
  local ok, message = pcall(f)
  T.equal(ok, false, "refused: " .. text)
  message = tostring(message)
  T.equal(message:find(text, 1, true) ~= nil, true, ("message %q holds %q"):format(message, text))
  T.equal(message:find("\n"), nil, "one line: " .. message)
end

-- mpm.metrics: a label the score columns cannot predict, one score column, a NaN target.
local M, scores = mpm.metrics, mpm.tensor { { 0.9, 0.1 }, { 0.2, 0.8 } }
refused(function() return M.accuracy(scores, { 1, 3 }) end, "accuracy: labels hold class 3 but pred has scores for 2 classes (1..2)")
refused(function() return M.balanced_accuracy(scores, { 1, 3 }) end, "balanced_accuracy: labels hold class 3 but pred has scores for 2 classes")
refused(function() return M.confusion_matrix(scores, { 3, 1 }) end, "confusion_matrix: labels hold class 3 but pred has scores for 2 classes")
refused(function() return M.balanced_accuracy_by_group(scores, { 1, 3 }, { 1, 1 }) end,
  "balanced_accuracy_by_group: labels hold class 3 but pred has scores for 2 classes")
refused(function() return M.accuracy(mpm.tensor { { 0.3 }, { 0.6 } }, { 1, 1 }) end, "accuracy: pred scores [N, C] need a column per class, at least 2")
refused(function() return M.sic({ 0.1, 0.9 }, { 0, 1 }, { fpr = 0 / 0 }) end, "sic: fpr must be between 0 and 1, got nan")
refused(function() return M.rejection({ 0.1, 0.9 }, { 0, 1 }, { efficiency = 2 }) end, "rejection: efficiency must be between 0 and 1, got 2")
refused(function() return M.accuracy({}, {}) end, "accuracy: pred and labels are empty")
refused(function() return M.roc_auc({ 0.1, 0.2, 0.3 }, { 0, 1 }) end, "roc_auc: scores has 3 values but labels has 2")
T.equal(M.accuracy(scores, { 1, 2 }), 1.0, "labels within the score columns still score")

-- mpm.explore: one class has nothing to probe and no distance between classes.
local g = mpm.Generator(5)
local cycle = {}
for i = 1, 90 do cycle[i] = (i - 1) % 3 + 1 end
local E = mpm.explore.new { vectors = mpm.randn(90, 4, { generator = g }), labels = cycle, classes = { "QCD", "TTBar", "WToQQ" } }
refused(function() return E:select("QCD"):probe() end,
  "E:probe: all 30 jets are of one class (QCD); a probe needs at least two (the classes: QCD, TTBar, WToQQ)")
refused(function() return E:select("TTBar"):class_distances() end,
  "E:class_distances: all 30 jets are of one class (TTBar); a distance between classes needs at least two")
refused(function() return E:select(mpm.tensor { 1, 2 }):class_distances() end,
  "E:class_distances: every class holds a single jet; the distance within a class needs two")
refused(function() return E:select(mpm.zeros(90, { dtype = "bool" })):probe() end, "E:probe: there are no jets")
T.equal(type(E:select { "QCD", "TTBar" }:probe().accuracy), "number", "two classes are probed")
refused(function() return E:probe { train_fraction = 1 } end, "E:probe: train_fraction must be between 0 and 1 (exclusive), got 1")
refused(function() return E:probe { steps = 2.5 } end, "E:probe: steps must be a positive whole number, got 2.5")
refused(function() return E:probe { lr = -1 } end, "E:probe: lr must be a positive number, got -1")
refused(function() return E:class_distances { max_per_class = 1 } end, "E:class_distances: max_per_class must be a whole number of at least 2")
refused(function() return E:plot { components = { 1, 1 }, out = path("p.png") } end,
  "E:plot: components must be two different principal components in 1..4")
refused(function() return E:plot { components = { 1, 9 }, out = path("p.png") } end, "E:plot: components must be two different")
refused(function() return mpm.explore.new { vectors = mpm.tensor { { 1, 2 }, { 0 / 0, 1 } } } end,
  "explore.new: vector 2 holds NaN or infinite values")
refused(function() return mpm.explore.new { vectors = mpm.zeros(2, 2), labels = { 0, 1 } } end,
  "explore.new: labels must be class numbers counting from 1, found 0")
refused(function() return mpm.explore.compare({ "random", "random" }, data, { k = 0 }) end,
  "explore.compare: k must be a positive whole number, got 0")

-- A label read from E.labels is a 0-D tensor: E.classes takes it, E:neighbours takes a row
-- read from its own result, and E:select says that a single-value tensor is ambiguous.
T.equal(E.classes[E.labels[2]], "TTBar", "E.classes[E.labels[i]]")
T.equal(E.classes[E.labels[2]:item()], "TTBar", "E.classes[number]")
T.equal(E.classes[4], nil, "no class 4")
T.equal(E.classes, { "QCD", "TTBar", "WToQQ" }, "the names compare as a list")
local nearest = E:neighbours(1, 3)
T.equal(E:neighbours(nearest[1], 2):tolist(), E:neighbours(nearest[1]:item(), 2):tolist(), "a jet number as a 0-D tensor")
refused(function() return E:select(E.labels[1]) end, "E:select: a single-value tensor is ambiguous")
refused(function() return E:neighbours(mpm.tensor { 1, 0 / 0, 0, 0 }, 2) end, "E:neighbours: the query vector holds NaN or infinite values")
refused(function() return E:select(7) end, "E:select: no class 7 (classes 1..3: QCD, TTBar, WToQQ)")
refused(function() return E:select(mpm.tensor { 1.5, 2 }) end, "E:select: rows must be whole numbers")
E:save(path("saved/E.h5"))
T.equal(mpm.explore.load(path("saved/E.h5")).classes[E.labels[3]], "WToQQ", "E:save creates its folder; loaded names take a label tensor")
mpm.files.write(path("not_a_folder"), "x")
refused(function() return E:save(path("not_a_folder/E.h5")) end, "E:save: cannot write " .. path("not_a_folder/E.h5") .. ": ")

-- explore.embed: jets is a count, rows, or false; nothing else.
for _, case in ipairs {
  { 1.5, "explore.embed: jets = 1.5 is not a whole number of jets" },
  { 0, "explore.embed: jets = 0: give at least 1 jet (or false for all 1000)" },
  { -3, "explore.embed: jets = -3: give at least 1 jet" },
  { 5000, "explore.embed: jets = 5000, but the file holds 1000 jets" },
  { { 1, 2.5 }, "explore.embed: jets[2] = 2.5 is not a row number" },
  { mpm.tensor { 1.5, 2 }, "explore.embed: jets must be whole row numbers, found 1.5" },
  { { 0, 1 }, "explore.embed: jets must be rows 1..1000 of the file" },
  { {}, "explore.embed: jets is empty" },
  { "10", "explore.embed: jets must be a count, a list or tensor of rows, or false for all, got string" },
  { mpm.tensor { true }, "got a boolean tensor" },
} do
  refused(function() return mpm.explore.embed("random", data, { jets = case[1] }) end, case[2])
end
T.equal(#mpm.explore.embed("random", data, { jets = 3.0 }), 3, "a whole float is a count")

-- mpm.plot: series that do not pair up, nothing to draw, bins and ranges that bin nothing.
local P = mpm.plot
local out = path("figure.png")
refused(function() return P.lines { out = out, series = { { x = { 1, 2, 3 }, y = { 1, 2 } } } } end,
  "plot.lines: series 1 has 3 x values but 2 y values")
refused(function() return P.lines { out = out, series = { { x = { 1, 2 }, y = { 1, 2 }, yerr = { 1 }, title = "auc" } } } end,
  "plot.lines: series 1 (auc) has 1 yerr values for 2 points")
refused(function() return P.lines { out = out, series = {} } end, "plot.lines: series is empty")
refused(function() return P.lines { out = out, series = { { x = {}, y = {} } } } end, "plot.lines: series 1 has no point to draw (0 points")
refused(function() return P.lines { out = out, series = { { x = { 1, 2 }, y = { 0 / 0, 0 / 0 }, title = "acc" } } } end,
  "plot.lines: series 1 (acc) has no point to draw (2 points; none with finite x and y)")
refused(function() return P.lines { out = out, logy = true, series = { { x = { 1 }, y = { -1 } } } } end,
  "none with finite x and y, positive on the log axes")
refused(function() return P.lines { out = out, series = { { x = { 1, 2 }, y = { 1, "2" } } } } end, "plot.lines: series 1 y[2] is a string, not a number")
refused(function() return P.lines { out = out, width = 0, series = { { x = { 1 }, y = { 1 } } } } end,
  "plot.lines: width must be a positive whole number of pixels, got 0")
refused(function() return P.hist { values = { 1, 2, 3 }, bins = 0, out = out } end, "plot.hist: bins must be a positive whole number, got 0")
refused(function() return P.hist { values = { 1, 2, 3 }, bins = 2.5, out = out } end, "plot.hist: bins must be a positive whole number, got 2.5")
refused(function() return P.hist { values = { 1, 2 }, range = { 3, 1 }, out = out } end, "plot.hist: range must be {lo, hi} with finite lo < hi, got {3, 1}")
refused(function() return P.hist { values = {}, out = out } end, "plot.hist: values is empty")
refused(function() return P.hist { values = { 0 / 0, math.huge }, out = out } end, "plot.hist: all 2 values are NaN or infinite")
refused(function() return P.hist { values = { 1, 2 }, groups = { 1 }, out = out } end, "plot.hist: groups has 1 values for 2 points")
refused(function() return P.hist { values = { 1, 2 }, groups = { 1, 1.5 }, out = out } end, "plot.hist: groups must be whole numbers (class numbers), found 1.5")
refused(function() return P.scatter { x = {}, y = {}, out = out } end, "plot.scatter: x and y are empty")
refused(function() return P.scatter { x = { 0 / 0 }, y = { 1 }, out = out } end, "plot.scatter: none of the 1 points has finite x and y")
refused(function() return P.scatter { x = { 1, 2 }, y = { 1, 2 }, color = { 1 }, out = out } end, "plot.scatter: color has 1 values for 2 points")
refused(function() return P.histograms { out = out, panels = {} } end, "plot.histograms: panels is empty")
refused(function() return P.histograms { out = out, panels = { { series = { { values = {} } } } } } end, "plot.histograms: no panel holds any value")
refused(function() return P.histograms { out = out, panels = { { title = "pt", series = { { values = { 0 / 0 } } } } } } end,
  "plot.histograms: panel 1 (pt): series 1 values: all 1 are NaN or infinite")
refused(function() return P.histograms { out = out, panels = { { title = "pt", bins = 0, series = { { values = { 1 } } } } } } end,
  "plot.histograms: panel 1 (pt): bins must be a positive whole number, got 0")
refused(function() return P.histograms { out = out, panels = { { title = "pt" } } } end, "plot.histograms: panel 1 (pt) has no series")
local metrics_file = path("metrics.csv")
mpm.files.write(metrics_file, "step,lr\n1,0.001\n")
local nothing, why = P.loss_curve(metrics_file, path("loss.png"))
T.equal({ nothing, why }, { nil, "plot.loss_curve: no loss values in " .. metrics_file }, "a metrics file without losses")

-- Plots into folders that do not exist are written there; where writing cannot work the
-- message says why (the folder is a file; gnuplot's own reason).
if P.available() then
  local nested = path("runs/explore/pca.png")
  T.equal(E:plot { out = nested }, nested, "E:plot creates the missing folders")
  T.equal(mpm.files.exists(nested), true, "the PNG is there")
  T.equal(P.hist { values = { 1, 2 }, out = path("more/h.png") }, path("more/h.png"), "hist creates its folder")
  mpm.files.write(path("a_file"), "x")
  T.equal({ E:plot { out = path("a_file/pca.png") } }, { nil, "plot.scatter: cannot write " .. path("a_file/pca.png") .. ": "
    .. path("a_file") .. ": exists and is not a directory (a file)" }, "a file where the folder should be")
  local failed, reason = E:plot { out = path("runs") }
  T.equal(failed, nil, "gnuplot cannot write a directory")
  T.equal(reason, "gnuplot failed to write " .. path("runs") .. ": cannot open file; output not changed (Is a directory)",
    "gnuplot's reason")
else
  print("refused_inputs.lua: SKIPPED the plot-writing checks: gnuplot is not installed")
end

-- mpm.stats and mpm.tabular: NaN is no value to average, and reads back as missing.
refused(function() return mpm.stats.summary { 0.8, 0 / 0, 0.7 } end, "stats.summary: value 2 of 3 is NaN")
T.equal(mpm.tabular.csv_text({ "a", "b", "c" }, { { a = 0 / 0, b = math.huge, c = -math.huge } }), "a,b,c\n,inf,-inf\n",
  "NaN is an empty cell, infinities inf and -inf")
mpm.tabular.write_csv(path("t.csv"), { "a", "b", "c" }, { { a = 0 / 0, b = math.huge, c = -math.huge } })
T.equal(select(2, mpm.tabular.read_csv(path("t.csv"))), { { b = math.huge, c = -math.huge } }, "read back: NaN missing, infinities numbers")
mpm.files.write(path("wide.csv"), "step,loss\n1,0.5\n2,0.4,9\n")
refused(function() return mpm.tabular.read_csv(path("wide.csv")) end, "tabular.read_csv: " .. path("wide.csv") .. ":3 has 3 cells but the header names 2 columns")

os.execute("rm -rf " .. mpm.files.quote(dir))
