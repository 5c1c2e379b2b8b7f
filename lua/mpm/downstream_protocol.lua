-- mpm.downstream_protocol: the command line of a protocol script (examples/jetclass.lua,
-- cwola.lua, btag.lua, vertexing.lua, tracks.lua): its options, read from the same table as
-- mpm.downstream.classify so a call from the REPL and the script agree; one run with its line
-- at a glance and the random-init run beside it; or the sweep over backbones x sizes x seeds
-- with its CSV, summary and figures. It joins mpm.downstream (this module extends that table
-- and returns it), as the per-particle tasks do: mpm.downstream.protocol.
local mpm = require "mpm.core"
local cli = require "mpm.cli"
local tabular = require "mpm.tabular"
local data = require "mpm.data"
local downstream = require "mpm.downstream"
local files = mpm.files

-- One run's result in one line: the metric with its test-set error where it has one, the chance
-- level, the backbone and its settings.
local function glance(p, result, backbone, size, reused, path)
  local metric, m = p.metric.name, result.metrics
  local text = ("%s: %s %.4f"):format(p.name, metric, m[metric])
  if metric == "accuracy" and m.accuracy_se then text = text .. (" +- %.4f"):format(m.accuracy_se) end
  text = text .. (" on %d test jets"):format(result.options.test_jets)
  if m.chance and m.chance[metric] then text = text .. (", chance %.4f"):format(m.chance[metric]) end
  text = text .. (" (%s, %s %d, lr %g, mode %s)%s; %s"):format(backbone, p.size.column, size, result.options.lr,
    result.options.mode, reused and ", from an earlier run of the same experiment" or "", path)
  local t = result.training
  if result.options.patience and t and t.stopped_early == false then
    text = text .. ("\n%s: it ran all %d epochs without stopping early: its validation loss may still be falling (%s); raise --epochs"):format(
      p.name, result.options.epochs, t.curve or "OUT/train/metrics.csv")
  end
  return text
end

-- A random-init result of the same experiment beside out (a sibling run or an entry of a sweep
-- in a sibling directory): the comparison a pre-trained backbone is judged by.
local function find_baseline(out, result)
  local key = mpm.json.decode(mpm.json.encode(result.key))
  key.options.backbone, key.options.preset = "random", result.backbone.preset or "small"
  local wanted = files.digest_text(mpm.json.encode(key))
  local parent = files.dirname(out)
  local function try(dir)
    local path = files.join(dir, "result.json")
    if files.kind(path) ~= "file" then return nil end
    local ok, found = pcall(downstream.read_result, path)
    if ok and type(found) == "table" and found.key_digest == wanted then return { path = path, result = found } end
  end
  for _, name in ipairs(files.list(parent)) do
    local dir = files.join(parent, name)
    if files.kind(dir) == "directory" then
      local found = try(dir)
      if found then return found end
      for _, entry in ipairs(files.list(dir)) do
        found = files.kind(files.join(dir, entry)) == "directory" and try(files.join(dir, entry))
        if found then return found end
      end
    end
  end
end

-- "vs random init (path): +0.1450 +- 0.0219": the difference of two single runs, with the
-- test-set error of an accuracy (one seed each: the spread over seeds is the sweep's).
local function versus(metric, result, baseline, path)
  local a, b = result.metrics, baseline.metrics
  local text = ("vs random init with the same settings (%s): %s %+.4f"):format(path, metric, a[metric] - b[metric])
  if metric == "accuracy" and a.accuracy_se and b.accuracy_se then
    return text .. (" +- %.4f (test-set statistics of one seed each)"):format(math.sqrt(a.accuracy_se ^ 2 + b.accuracy_se ^ 2))
  end
  return text .. " (one seed each; run the sweep for the spread over seeds)"
end

-- A backbone's name in figures and tables: "random", "none", or the folder holding its file
-- ("cfm" for runs/cfm/backbone.h5) with `depth` folders in all.
local function name_of(backbone, depth)
  if backbone == "random" or backbone == "none" then return backbone end
  local parts = {}
  for part in files.dirname(backbone):gmatch("[^/]+") do parts[#parts + 1] = part end
  if #parts == 0 then return backbone end
  return table.concat(parts, "/", math.max(1, #parts - (depth or 1) + 1))
end

-- Names for a sweep's backbones, with as many parent folders as it takes to tell two apart
-- (a/cfm and b/cfm rather than cfm twice).
local function display_names(backbones)
  local names = {}
  for depth = 1, 16 do
    local seen, clash = {}, false
    for i, b in ipairs(backbones) do
      names[i] = name_of(b, depth)
      clash = clash or seen[names[i]] ~= nil
      seen[names[i]] = true
    end
    if not clash then break end
  end
  return names
end

-- A protocol's command line: the sweep's options, then classify's (downstream.OPTIONS) with the
-- protocol's size option in place of --train-jets and its defaults (data files, steps, ...),
-- then its own. Bundled data files are found from the working directory, else beside the
-- script's examples/ folder, so a script runs from any directory.
local function protocol_spec(p, args)
  local spec = {}
  local function default_of(name, value)
    local v = p.defaults[name]
    if v == nil then v = p.defaults[name:gsub("-", "_")] end
    if v == nil then return value end
    if type(v) == "string" and v:match("%.h5$") then v = data.bundled(v, args and args[0]) end
    return v
  end
  for _, s in ipairs(downstream.OPTIONS) do
    if s[3] then
      local entry = s[1] == "train-jets" and { p.size.option, nil, "integer", p.size.help } or { s[1], s[2], s[3], s[4] }
      entry[2] = default_of(entry[1], s[1] == "out" and ("runs/" .. p.name) or s[2])
      spec[#spec + 1] = entry
    end
  end
  spec[#spec + 1] = { "sweep", false, "flag", "run the sweep (backbones x sizes x seeds) instead of one run" }
  spec[#spec + 1] = { "backbones", "random", "string", "sweep: comma-separated backbones (files, random, none)" }
  spec[#spec + 1] = { "sizes", default_of("sizes"), "string", "sweep: values of --" .. p.size.option }
  spec[#spec + 1] = { "seeds", "1,2,3", "string", "sweep: seeds" }
  for _, entry in ipairs(p.options or {}) do spec[#spec + 1] = entry end
  return spec
end

--- mpm.downstream.protocol(p, args) -> result or rows: the command line of a protocol script
--- (examples/jetclass.lua, btag.lua, cwola.lua, vertexing.lua, tracks.lua): one run, or with
--- --sweep the grid backbones x sizes x seeds, a CSV and the figure. p = {name=, synopsis=,
--- defaults = {option = value}, classes=, class_names=, run = function(o, r) -> classify
--- options (data files, ...), size = {option=, column=, label=}, metric = {name=, label=},
--- figure=, title=, note=, options = extra command-line entries {name, default, type, help},
--- curves=}. curves = list of {name=, x=, y=, xlabel=, ylabel=, figure=, title=}: metrics that
--- are curves rather than one number (result.metrics[name] = list of points {[x]=, [y]=, ...},
--- e.g. ARI per number of vertices); each gets a figure (y against x, one line per backbone,
--- spread over seeds) for one run and for the sweep, and the sweep writes their points to
--- OUT/curves.csv (backbone, size, seed, curve, x, y).
function downstream.protocol(p, args)
  local o = cli.options(args, protocol_spec(p, args), p.synopsis)
  if o == nil then return end
  local size_key = p.size.option:gsub("-", "_")
  if p.note then
    local message = p.note(o)
    if message then print(p.name .. ": " .. message) end
  end
  -- The classify options of one run (the single run, or an entry {backbone, seed, size, out} of the sweep).
  local function options_for(r)
    local c = { classes = p.classes, class_names = p.class_names, protocol = p.name, kind = p.kind or false,
      quiet = o.quiet or o.sweep }
    for _, s in ipairs(downstream.OPTIONS) do
      local key = s[1]:gsub("-", "_")
      if s[3] and key ~= "quiet" and o[key] ~= nil then c[key] = o[key] end
    end
    c.backbone, c.out, c.seed, c.train_jets = r.backbone, r.out, r.seed, r.train_jets
    for k, v in pairs(p.run(o, r)) do c[k] = v end
    return c
  end
  local function run(r) return downstream.classify(options_for(r)) end
  local metric = p.metric.name
  -- The curve metrics of finished runs as rows {backbone, size, seed, x, y}, and their figures.
  local function curve_rows(entries, curve)
    local rows = {}
    for _, e in ipairs(entries) do
      for _, point in ipairs(e.result.metrics[curve.name] or {}) do
        if point[curve.y] ~= nil then
          rows[#rows + 1] = { backbone = e.run.name, size = e.run[size_key], seed = e.run.seed,
            x = point[curve.x], y = point[curve.y] }
        end
      end
    end
    return rows
  end
  local function plot_curves(entries)
    local written = {}
    for _, curve in ipairs(p.curves or {}) do
      local png = downstream.plot_sweep { rows = curve_rows(entries, curve), x = "x", y = "y", group = "backbone",
        baseline = "random", out = files.join(o.out, curve.figure), xlabel = curve.xlabel, ylabel = curve.ylabel,
        title = curve.title, logx = false }
      if png then written[#written + 1] = png end
    end
    return written
  end
  if not o.sweep then
    local r = { backbone = o.backbone, name = name_of(o.backbone), out = o.out, seed = o.seed, train_jets = o.train_jets }
    r[size_key] = o[size_key]
    local result, reused = run(r)
    print(glance(p, result, r.name, o[size_key], reused, files.join(o.out, "result.json")))
    local baseline = o.backbone ~= "random" and o.backbone ~= "none" and find_baseline(o.out, result) or nil
    if baseline then print(p.name .. ": " .. versus(metric, result, baseline.result, baseline.path)) end
    local pngs = plot_curves { { run = r, result = result } }
    if #pngs > 0 and not o.quiet then print(p.name .. ": " .. table.concat(pngs, ", ")) end
    return result
  end
  -- Each entry's directory is named by its experiment's digest, so a changed setting makes a new
  -- entry and an entry is reused only for the identical experiment.
  local runs = {}
  local backbones = downstream.list(o.backbones, nil, "backbones")
  local names = display_names(backbones)
  -- Seed by seed, so a sweep stopped part-way has compared every backbone at every size.
  for _, seed in ipairs(downstream.list(o.seeds, "integer", "seeds")) do
    for i, backbone in ipairs(backbones) do
      for _, size in ipairs(downstream.list(o.sizes, "integer", "sizes")) do
        local label = ("%s_n%d_s%d"):format(names[i]:gsub("[^%w]", "_"), size, seed)
        local r = { backbone = backbone, name = names[i], seed = seed, label = label, out = files.join(o.out, label),
          train_jets = o.train_jets }
        r[size_key] = size
        local _, digest = downstream.experiment(options_for(r))
        r.out = files.join(o.out, label .. "_" .. digest:sub(1, 10))
        runs[#runs + 1] = r
      end
    end
  end
  local extra_metrics = p.metric.extra or {}
  local columns = { names = { "backbone", p.size.column, "seed", metric }, summary = function(e)
    return ("%s %.4f"):format(metric, e.result.metrics[metric])
  end }
  for _, m in ipairs(extra_metrics) do columns.names[#columns.names + 1] = m end
  for _, n in ipairs { "steps", "seconds", "run" } do columns.names[#columns.names + 1] = n end
  columns.backbone = function(e) return e.run.name end
  columns[p.size.column] = function(e) return e.run[size_key] end
  columns.seed = function(e) return e.run.seed end
  for _, m in ipairs { metric, table.unpack(extra_metrics) } do columns[m] = function(e) return e.result.metrics[m] end end
  columns.steps = function(e) return e.result.training.steps end
  columns.seconds = function(e) return e.result.times.total_seconds end
  columns.run = function(e) return e.run.out end
  files.mkdir(o.out)
  local rows = downstream.sweep { runs = runs, run = run, csv = files.join(o.out, "sweep.csv"), columns = columns,
    quiet = o.quiet, cost = function(r) return r[size_key] end }
  if not mpm.distributed.is_main() then return rows end
  local entries = {}
  for i, r in ipairs(runs) do entries[i] = { run = r, result = downstream.read_result(files.join(r.out, "result.json")) } end
  local chance = entries[1] and entries[1].result.metrics.chance
  local png = p.figure and downstream.plot_sweep { rows = rows, x = p.size.column, y = metric, group = "backbone",
    baseline = "random", out = files.join(o.out, p.figure), xlabel = p.size.label,
    ylabel = p.metric.label .. " (mean +- standard error over seeds)", title = p.title,
    chance = chance and chance[metric] or nil, caption = downstream.ARMS }
  if p.curves then
    local rows_out = {}
    for _, curve in ipairs(p.curves) do
      for _, c in ipairs(curve_rows(entries, curve)) do
        rows_out[#rows_out + 1] = { backbone = c.backbone, [p.size.column] = c.size, seed = c.seed,
          curve = curve.name .. "." .. curve.y, x = c.x, y = c.y }
      end
    end
    tabular.write_csv(files.join(o.out, "curves.csv"), { "backbone", p.size.column, "seed", "curve", "x", "y" }, rows_out)
  end
  local pngs = plot_curves(entries)
  if png then table.insert(pngs, 1, png) end
  local summary = downstream.summarise(rows, p.size.column, metric)
  tabular.write_csv(files.join(o.out, "summary.csv"), { "backbone", p.size.column, "seeds", "mean", "se",
    "vs_random", "vs_random_se" }, summary)
  for _, line in ipairs(summary) do
    local spread = line.seeds > 1 and (" +- %.4f (%d seeds)"):format(line.se, line.seeds) or " (1 seed: no spread)"
    local versus_random = ""
    if line.vs_random then
      versus_random = (", vs random init %+.4f"):format(line.vs_random)
      if line.vs_random_se and line.vs_random_se > 0 then
        versus_random = versus_random .. (" +- %.4f (%.1f standard errors)"):format(line.vs_random_se,
          math.abs(line.vs_random) / line.vs_random_se)
      end
    end
    print(("%s sweep: %s %s: %s %s %.4f%s%s"):format(p.name, p.size.column, line[p.size.column], line.backbone,
      metric, line.mean, spread, versus_random))
  end
  print(("%s sweep: %d runs; %s, %s%s"):format(p.name, #rows, files.join(o.out, "sweep.csv"), files.join(o.out, "summary.csv"),
    #pngs > 0 and (", " .. table.concat(pngs, ", ")) or ""))
  return rows
end

return downstream
