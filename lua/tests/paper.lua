-- examples/paper.lua at tiny sizes: two backbones, every protocol, two seeds. The report's
-- numbers are those of the result files its runs wrote (each protocol's mean and standard error
-- over seeds, recomputed here from every result.json), and a second job redoes nothing.
local T = require "mpm.testing"
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
local files = mpm.files
local out = os.tmpname()
os.remove(out)
files.mkdir(out)

local args = { "--tasks", "reg,cfm", "--steps", "3", "--batch-size", "16", "--preset", "tiny", "--sizes", "20",
  "--seeds", "1,2", "--epochs", "1", "--test-jets", "64", "--reconstruct-jets", "64",
  "--protocols", "jetclass,cwola,btag,vertexing,tracks", "--runs", files.join(out, "runs"),
  "--report", files.join(out, "report"), "--quiet" }
local report = T.script(root .. "/examples/paper.lua", table.unpack(args))
local readme = io.open(files.join(out, "report/README.md")):read("a")

-- Every result.json of a protocol, grouped by backbone and size, against the report's rows.
local SIZE = { jetclass = "train_jets", cwola = "n_signal", btag = "train_jets", vertexing = "train_jets", tracks = "train_jets" }
local METRIC = { jetclass = "accuracy", cwola = "sic", btag = "accuracy", vertexing = "ari", tracks = "balanced_accuracy" }
for protocol, size in pairs(SIZE) do
  local dir = files.join(out, "runs/" .. protocol)
  local groups, count = {}, 0
  for _, name in ipairs(files.list(dir)) do
    local path = files.join(dir, name .. "/result.json")
    if files.exists(path) then
      local result = mpm.downstream.read_result(path)
      local spec = result.backbone.spec
      local backbone = spec == "random" and "random" or files.basename(files.dirname(spec))
      local n = size == "n_signal" and result.extra.n_signal or result.options.train_jets
      local key = backbone .. " " .. n
      groups[key] = groups[key] or {}
      table.insert(groups[key], result.metrics[METRIC[protocol]])
      count = count + 1
    end
  end
  T.equal(count, 6, protocol .. ": three backbones x two seeds")
  local rows = report.protocols[protocol].rows
  T.equal(#rows, 3, protocol .. ": one row per backbone and size")
  for _, row in ipairs(rows) do
    local values = groups[row.backbone .. " " .. row[size]]
    T.equal(#values, 2, protocol .. " " .. row.backbone .. ": two seeds")
    local mean = (values[1] + values[2]) / 2
    local se = math.abs(values[1] - values[2]) / 2  -- sd / sqrt(2) for two values
    T.close(row.mean, mean, 1e-6, protocol .. " " .. row.backbone .. ": the report's mean is its runs' mean")
    T.close(row.se, se, 1e-6, protocol .. " " .. row.backbone .. ": and its standard error")
    T.equal(readme:find(("| %d | %s | %.3f ± %.3f | 2 |"):format(row[size], row.backbone, mean, se), 1, true) ~= nil, true,
      protocol .. " " .. row.backbone .. ": README.md shows the same numbers")
  end
end
T.equal(#report.reconstruction.runs, 2, "both backbones reconstructed")
T.equal(readme:find("## Appendix E", 1, true) ~= nil, true, "the reconstruction section")
for _, figure in ipairs { "figure_3a_jetclass.png", "figure_3b_cwola.png", "figure_4a_btag.png", "figure_4b_vertexing.png",
  "figure_4c_tracks.png", "appendix_e.png", "results.json" } do
  T.equal(files.exists(files.join(out, "report/" .. figure)), true, figure)
end
local copied, drawn = io.open(files.join(out, "report/figure_3a_jetclass.png"), "rb"), io.open(files.join(out, "runs/jetclass/accuracy_vs_jets.png"), "rb")
T.equal(copied:read("a") == drawn:read("a"), true, "the report's figure is the sweep's, byte for byte")
copied:close(); drawn:close()

-- A second job finds every stage done: the same numbers, no new run.
local runs_before = #files.list(files.join(out, "runs/jetclass"))
local again = T.script(root .. "/examples/paper.lua", table.unpack(args))
T.equal(#files.list(files.join(out, "runs/jetclass")), runs_before, "no new jetclass run")
T.equal(again.protocols.jetclass.rows[1].mean, report.protocols.jetclass.rows[1].mean, "the same numbers")

-- --report-only reads a stopped sweep: here jetclass's sweep.csv cut to its first two runs.
local sweep_path = files.join(out, "runs/jetclass/sweep.csv")
local kept = {}
for line in io.lines(sweep_path) do if #kept < 3 then kept[#kept + 1] = line end end
files.write(sweep_path, table.concat(kept, "\n") .. "\n")
local partial = T.script(root .. "/examples/paper.lua", "--report-only", table.unpack(args))
T.equal(partial.protocols.jetclass.runs, 2, "two finished runs")
T.equal(partial.protocols.jetclass.planned, 6, "of six")
T.equal(io.open(files.join(out, "report/README.md")):read("a"):find("**Partial:** 2 of the 6 runs", 1, true) ~= nil, true,
  "the report says it is partial")
T.raises(function() T.script(root .. "/examples/paper.lua", "--budget", "huge") end, "must be quick or full")

-- A difference whose random-init side has one seed has no standard error (not 0, which would
-- make any difference "many standard errors").
local summary = mpm.downstream.summarise({ { backbone = "cfm", n = 10, acc = 0.6 }, { backbone = "cfm", n = 10, acc = 0.62 },
  { backbone = "random", n = 10, acc = 0.5 } }, "n", "acc")
T.close(summary[1].vs_random, 0.11, 1e-12, "the difference of the means")
T.equal(summary[1].vs_random_se, nil, "and no standard error with one random-init seed")
T.raises(function() T.script(root .. "/examples/paper.lua", "--protocols", "jetclass,nope", "--runs", files.join(out, "x")) end,
  "unknown protocol 'nope'")
os.execute("rm -rf " .. files.quote(out))
