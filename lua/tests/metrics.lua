-- mpm.metrics from Lua: hand-computed cases (1-based classes, plain tables, bool labels), clear
-- one-line errors for bad inputs, and every function against scikit-learn
-- (tools/metrics_oracle.py: random and heavily tied inputs) to 1e-6 relative. Without python3,
-- numpy and scikit-learn (make deps installs them) the comparison is skipped with a message.
local T = require "mpm.testing"
local M = mpm.metrics
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."

-- Hand cases (see Tests/MPMTests/MetricsTests.swift for the arithmetic).
T.close(M.roc_auc({ 0.1, 0.4, 0.35, 0.8 }, { 0, 0, 1, 1 }), 0.75, 1e-12, "auc of a table")
T.close(M.roc_auc(mpm.tensor { 0.1, 0.4, 0.35, 0.8 }, mpm.tensor { false, false, true, true }), 0.75, 1e-12, "auc, bool labels")
T.close(M.roc_auc({ 0.5, 0.5, 0.5, 0.2 }, { 1, 0, 1, 0 }), 0.75, 1e-12, "auc with ties")
local fpr, tpr, thresholds = M.roc_curve({ 0.1, 0.4, 0.35, 0.8 }, { 0, 0, 1, 1 })
T.equal(fpr:tolist(), { 0, 0, 0.5, 0.5, 1 }, "roc fpr")
T.equal(tpr:tolist(), { 0, 0.5, 0.5, 1, 1 }, "roc tpr")
T.equal(thresholds[1]:item(), math.huge, "first threshold")
local s8, y8 = { 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2 }, { 1, 1, 0, 1, 0, 0, 1, 0 }
local sic, at_tpr, at_fpr = M.sic(s8, y8, { fpr = 0.3 })
T.close(sic, 1, 1e-9, "sic")
T.equal({ at_tpr, at_fpr }, { 0.5, 0.25 }, "sic point")
T.equal(M.rejection(s8, y8, { efficiency = 0.7 }), 4, "rejection")
T.equal(M.rejection(s8, y8, { efficiency = 0.4 }), math.huge, "rejection without background")
T.equal(M.sic(s8, y8), 0, "sic at the default fpr 0.01: the (0, 0) point")
T.close(M.accuracy({ 1, 2, 2 }, { 1, 2, 1 }), 2 / 3, 1e-12, "accuracy")
T.close(M.balanced_accuracy({ 1, 1, 2, 2, 2, 1 }, { 1, 1, 1, 2, 2, 3 }), 5 / 9, 1e-12, "balanced accuracy")
T.close(M.accuracy(mpm.tensor { { 1, 1, 0 }, { 0, 2, 2 } }, { 1, 3 }), 0.5, 0, "scores: first maximum")
local cm = M.confusion_matrix({ 1, 2 }, { 2, 2 })
T.equal(cm:tolist(), { { 0, 0 }, { 1, 1 } }, "confusion matrix")
T.equal(cm:dtype(), "int64", "confusion matrix dtype")
T.equal(M.confusion_matrix({ 1, 2 }, { 2, 2 }, 3):size(), { 3, 3 }, "confusion matrix with classes")
T.close(M.adjusted_rand_index({ 1, 1, 2, 2 }, { 1, 1, 2, 3 }), 4 / 7, 1e-12, "ari")
T.equal(M.adjusted_rand_index({ 5, 5, 5 }, { -1, -1, -1 }), 1, "ari of one cluster each")
T.equal(M.adjusted_rand_index({ 1, 2, 3 }, { 7, 8, 9 }), 1, "ari of all singletons")

-- Errors: one line naming the function and the problem.
T.raises(function() M.roc_auc(mpm.rand(10), mpm.zeros(9)) end, "roc_auc: scores has 10 values but labels has 9")
T.raises(function() M.roc_auc({ 0 / 0, 1 }, { 0, 1 }) end, "roc_auc: scores contain NaN")
T.raises(function() M.roc_auc({ 1, 2, 3 }, { 1, 1, 1 }) end, "roc_auc: only one class present in labels")
T.raises(function() M.roc_curve({ 1, 2 }, { 0, 2 }) end, "roc_curve: labels must be 0/1 or booleans, found 2")
T.raises(function() M.roc_curve(mpm.rand(3, 2), { 0, 1, 1 }) end, "roc_curve: scores must be 1%-D, got shape %[3,2%]")
T.raises(function() M.sic({}, {}) end, "sic: scores and labels are empty")
T.raises(function() M.sic({ 1, 2 }, { 0, 1 }, { fpr = 0.1, eff = 1 }) end, "sic: unknown option 'eff'")
T.raises(function() M.sic({ 1, 2 }, { 0, 1 }, { fpr = 1.5 }) end, "sic: fpr must be between 0 and 1, got 1.5")
T.raises(function() M.rejection({ 1, 2 }, { 0, 1 }, { efficiency = "half" }) end, "option 'efficiency'")
T.raises(function() M.accuracy({ 0, 1 }, { 1, 1 }) end, "accuracy: pred must be class numbers counting from 1, found 0")
T.raises(function() M.accuracy({ 1, 2.5 }, { 1, 1 }) end, "accuracy: pred must be whole numbers, found 2.5")
T.raises(function() M.balanced_accuracy(mpm.rand(2, 2, 2), { 1, 1 }) end, "balanced_accuracy: pred must be class numbers %[N%] or scores %[N, C%]")
T.raises(function() M.confusion_matrix({ 1, 4 }, { 1, 2 }, 3) end, "confusion_matrix: class 4 found but classes = 3")
T.raises(function() M.confusion_matrix({ 1, 2 }, { 1, 2 }, 1.5) end, "bad argument #3")
T.raises(function() M.adjusted_rand_index({ 1, "a" }, { 1, 2 }) end, "adjusted_rand_index: truth: values%[2%] is a string")
T.raises(function() M.adjusted_rand_index("x", { 1 }) end, "tensor expected")

-- The comparison with scikit-learn.
if not os.execute("python3 -c 'import numpy, sklearn' >/dev/null 2>&1") then
  print("metrics.lua: SKIPPED the scikit-learn comparison: python3 cannot import numpy and sklearn "
    .. "(make deps installs them: python3 -m pip install --only-binary=:all: scikit-learn numpy)")
  return
end
local path = os.tmpname()
assert(os.execute("python3 " .. mpm.files.quote(root .. "/tools/metrics_oracle.py") .. " " .. mpm.files.quote(path)),
  "tools/metrics_oracle.py failed")
local file = assert(io.open(path))
local text = file:read("a")
file:close()
os.remove(path)

-- A JSON reader for the oracle's output (objects, arrays, numbers, Infinity, plain strings).
local function decode(s)
  local pos = 1
  local function skip() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
  local function str()
    local close = s:find('"', pos + 1, true)
    local v = s:sub(pos + 1, close - 1)
    pos = close + 1
    return v
  end
  local value
  local function sequence(close, add)
    pos = pos + 1
    skip()
    if s:sub(pos, pos) == close then pos = pos + 1; return end
    repeat
      add()
      skip()
      local sep = s:sub(pos, pos)
      pos = pos + 1
    until sep == close
  end
  function value()
    skip()
    local c = s:sub(pos, pos)
    if c == "{" then
      local t = {}
      sequence("}", function() skip(); local k = str(); skip(); pos = pos + 1; t[k] = value() end)
      return t
    elseif c == "[" then
      local t = {}
      sequence("]", function() t[#t + 1] = value() end)
      return t
    elseif c == '"' then
      return str()
    end
    for word, v in pairs { Infinity = math.huge, ["-Infinity"] = -math.huge, ["true"] = true, ["false"] = false } do
      if s:sub(pos, pos + #word - 1) == word then pos = pos + #word; return v end
    end
    local number = assert(s:match("^-?[%d.eE+-]+", pos), "oracle JSON: unexpected character at " .. pos)
    pos = pos + #number
    return tonumber(number)
  end
  return value()
end
local oracle = decode(text)

-- The largest relative deviations seen, for numbers (computed in double precision) and for the
-- ROC tensors (stored as float32).
local compared, worst = 0, { number = { 0, "-" }, tensor = { 0, "-" } }
local function check(actual, expected, what, kind)
  compared = compared + 1
  if expected == math.huge or actual == math.huge then T.equal(actual, expected, what); return end
  local deviation = math.abs(actual - expected) / (expected ~= 0 and math.abs(expected) or 1)
  local w = worst[kind or "number"]
  if deviation > w[1] then w[1], w[2] = deviation, what end
  if not (deviation <= 1e-6) then
    error(("%s: expected %.17g, got %.17g (relative deviation %.3g)"):format(what, expected, actual, deviation), 2)
  end
end
local function check_all(actual, expected, what)
  T.equal(#actual, #expected, what .. ": length")
  for i = 1, #expected do check(actual[i], expected[i], ("%s[%d]"):format(what, i), "tensor") end
end

for _, case in ipairs(oracle.binary) do
  local name = "binary '" .. case.name .. "'"
  local scores, labels = mpm.tensor(case.scores, { dtype = "float32" }), mpm.tensor(case.labels)
  check(M.roc_auc(scores, labels), case.auc, name .. " auc")
  check(M.roc_auc(scores, labels:eq(1)), case.auc, name .. " auc, bool labels")
  local f, t, th = M.roc_curve(scores, labels)
  check_all(f:tolist(), case.fpr, name .. " fpr")
  check_all(t:tolist(), case.tpr, name .. " tpr")
  check_all(th:tolist(), case.thresholds, name .. " thresholds")
  for f, option in pairs { sic = "fpr", rejection = "efficiency" } do
    for _, p in ipairs(case[f]) do
      local v, pt, pf = M[f](scores, labels, { [option] = p.target })
      local at = ("%s %s at %s %g"):format(name, f, option, p.target)
      check(v, p.value, at)
      check(pt, p.tpr, at .. ": tpr")
      check(pf, p.fpr, at .. ": fpr")
    end
  end
end

for _, case in ipairs(oracle.classes) do
  local name = "classes '" .. case.name .. "'"
  local scores, pred, labels = mpm.tensor(case.scores, { dtype = "float32" }), mpm.tensor(case.pred), mpm.tensor(case.labels)
  for _, input in ipairs { { pred, "class numbers" }, { scores, "scores" } } do
    check(M.accuracy(input[1], labels), case.accuracy, name .. " accuracy from " .. input[2])
    check(M.balanced_accuracy(input[1], labels), case.balanced_accuracy, name .. " balanced accuracy from " .. input[2])
    T.equal(M.confusion_matrix(input[1], labels):tolist(), case.confusion_matrix, name .. " confusion matrix from " .. input[2])
  end
  T.equal(M.confusion_matrix(case.pred, case.labels, #case.confusion_matrix):tolist(), case.confusion_matrix,
    name .. " confusion matrix from tables")
  compared = compared + 3 * #case.confusion_matrix * #case.confusion_matrix
end

for _, case in ipairs(oracle.clusters) do
  check(M.adjusted_rand_index(mpm.tensor(case.truth), mpm.tensor(case.pred)), case.ari, "ari '" .. case.name .. "'")
  check(M.adjusted_rand_index(case.pred, case.truth), case.ari, "ari '" .. case.name .. "' swapped")
end

print(("metrics.lua: %d values agree with scikit-learn; max relative deviation %.3g for numbers (%s), "
  .. "%.3g for float32 ROC tensors (%s)"):format(compared, worst.number[1], worst.number[2], worst.tensor[1], worst.tensor[2]))
