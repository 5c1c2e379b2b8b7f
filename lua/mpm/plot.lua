-- mpm.plot: PNG figures through gnuplot (installed by `make`, package gnuplot-nox). Each
-- function writes its data and a gnuplot script to temporary files, runs gnuplot once, and
-- returns the PNG path; without gnuplot it returns nil and a message instead of failing, so
-- a training run never dies for want of a plot.
--
--   mpm.plot.loss_curve("run/metrics.csv", "run/loss.png")
--   mpm.plot.lines{path = "a.png", series = {{x = xs, y = ys, title = "train"}}}
--   mpm.plot.histograms{path = "h.png", columns = 3, panels = {{title = "pt", bins = 30,
--     series = {{values = true_pt, title = "true"}, {values = rec_pt, title = "reconstructed"}}}}}
return function(mpm)
  local plot = {}

  local function gp_string(s) return '"' .. tostring(s):gsub('\\', '\\\\'):gsub('"', '\\"') .. '"' end

  local available
  --- mpm.plot.available() -> true when gnuplot can be run.
  function plot.available()
    if available == nil then
      local ok = os.execute("command -v gnuplot >/dev/null 2>&1")
      available = ok == true or ok == 0
    end
    return available
  end

  local function values_of(v, what)
    if mpm.is_tensor(v) then return v:reshape(-1):float():tolist() end
    if type(v) ~= "table" then error(("plot: %s must be a tensor or a list of numbers, got %s"):format(what, type(v)), 3) end
    return v
  end

  -- Runs a gnuplot script given as lines; data files are removed afterwards.
  local function run(script, data_files, path)
    if not plot.available() then
      for _, f in ipairs(data_files) do os.remove(f) end
      return nil, "gnuplot is not installed (run `make deps`); skipped " .. tostring(path)
    end
    local script_path = os.tmpname()
    local f = assert(io.open(script_path, "w"))
    f:write(table.concat(script, "\n"), "\n")
    f:close()
    local ok = os.execute("gnuplot " .. mpm.files.quote(script_path) .. " 2>/dev/null")
    os.remove(script_path)
    for _, d in ipairs(data_files) do os.remove(d) end
    if not (ok == true or ok == 0) then return nil, "gnuplot failed to write " .. tostring(path) end
    return path
  end

  local function header(path, width, height)
    return {
      ("set terminal pngcairo size %d,%d enhanced font 'Sans,10' noenhanced"):format(width, height),
      "set output " .. gp_string(path),
      "set key top right",
      "set grid",
      -- Ten distinct colours (the Tableau palette), so ten classes or backbones never share one.
      "set linetype 1 lc rgb '#1f77b4'", "set linetype 2 lc rgb '#ff7f0e'", "set linetype 3 lc rgb '#2ca02c'",
      "set linetype 4 lc rgb '#d62728'", "set linetype 5 lc rgb '#9467bd'", "set linetype 6 lc rgb '#8c564b'",
      "set linetype 7 lc rgb '#e377c2'", "set linetype 8 lc rgb '#7f7f7f'", "set linetype 9 lc rgb '#bcbd22'",
      "set linetype 10 lc rgb '#17becf'", "set linetype cycle 10",
    }
  end

  --- mpm.plot.lines{path=, series={{x=, y=, yerr=, title=, style=}...}, title=, xlabel=, ylabel=,
  --- logx=false, logy=false, key="top right", width=900, height=560} -> path or nil, message: line
  --- plot of one or more series; a series with yerr (one half-width per point) gets error bars.
  --- key is any gnuplot key placement ("outside right", "bottom left").
  function plot.lines(o)
    mpm.check_option_names("plot.lines", o, { path = true, series = true, title = true, xlabel = true, ylabel = true,
      logx = true, logy = true, key = true, width = true, height = true })
    if type(o.path) ~= "string" then error("plot.lines: path (a .png file name) is required", 2) end
    local script = header(o.path, o.width or 900, o.height or 560)
    if o.title then script[#script + 1] = "set title " .. gp_string(o.title) end
    if o.xlabel then script[#script + 1] = "set xlabel " .. gp_string(o.xlabel) end
    if o.ylabel then script[#script + 1] = "set ylabel " .. gp_string(o.ylabel) end
    if o.logx then script[#script + 1] = "set logscale x" end
    if o.logy then script[#script + 1] = "set logscale y" end
    if o.key then script[#script + 1] = "set key " .. o.key end
    local files, parts = {}, {}
    for i, s in ipairs(o.series or {}) do
      local x, y = values_of(s.x, "x"), values_of(s.y, "y")
      local err = s.yerr and values_of(s.yerr, "yerr")
      local name = os.tmpname()
      local f = assert(io.open(name, "w"))
      local n = 0
      for j = 1, math.min(#x, #y) do
        local keep = y[j] == y[j] and (not o.logy or y[j] > 0) and (not o.logx or x[j] > 0)
        if keep then
          f:write(("%.9g %.9g %.9g\n"):format(x[j], y[j], err and err[j] or 0))
          n = n + 1
        end
      end
      f:close()
      files[#files + 1] = name
      if n > 0 then
        parts[#parts + 1] = ("%s using %s with %s lw 2 title %s"):format(gp_string(name), err and "1:2:3" or "1:2",
          s.style or (err and "yerrorlines" or "lines"), gp_string(s.title or ("series " .. i)))
      end
    end
    if #parts == 0 then
      for _, f in ipairs(files) do os.remove(f) end
      return nil, "plot.lines: nothing to plot"
    end
    script[#script + 1] = "plot " .. table.concat(parts, ", ")
    return run(script, files, o.path)
  end

  -- Bin counts of values on [lo, hi] in `bins` equal bins (values outside are dropped).
  local function histogram(values, lo, hi, bins)
    local counts = {}
    for b = 1, bins do counts[b] = 0 end
    local w = (hi - lo) / bins
    for _, v in ipairs(values) do
      if v >= lo and v <= hi then
        local b = math.min(bins, math.floor((v - lo) / w) + 1)
        counts[b] = counts[b] + 1
      end
    end
    return counts, w
  end

  --- mpm.plot.histograms{path=, panels={{title=, xlabel=, bins=30, range={lo, hi}, density=true,
  --- series={{values=, title=}...}}...}, columns=3, title=, width=, height=} -> path or nil, message
  --- A grid of step histograms (one panel per entry), sharing binning within a panel.
  function plot.histograms(o)
    mpm.check_option_names("plot.histograms", o, { path = true, panels = true, columns = true, title = true, width = true, height = true })
    if type(o.path) ~= "string" then error("plot.histograms: path (a .png file name) is required", 2) end
    local panels = o.panels or {}
    if #panels == 0 then return nil, "plot.histograms: no panels" end
    local columns = o.columns or math.min(3, #panels)
    local rows = math.ceil(#panels / columns)
    local script = header(o.path, o.width or 420 * columns, o.height or 320 * rows + (o.title and 40 or 0))
    script[#script + 1] = ("set multiplot layout %d,%d%s"):format(rows, columns, o.title and (" title " .. gp_string(o.title)) or "")
    script[#script + 1] = "set style fill transparent solid 0.25 border"
    local files = {}
    for _, p in ipairs(panels) do
      local all = {}
      local series = {}
      for _, s in ipairs(p.series or {}) do
        local v = values_of(s.values, "values")
        series[#series + 1] = { values = v, title = s.title }
        for _, x in ipairs(v) do all[#all + 1] = x end
      end
      local lo, hi
      if p.range then lo, hi = p.range[1], p.range[2] else
        lo, hi = math.huge, -math.huge
        for _, x in ipairs(all) do lo = math.min(lo, x); hi = math.max(hi, x) end
        if lo == math.huge then lo, hi = 0, 1 end
        if hi <= lo then hi = lo + 1 end
      end
      local bins = p.bins or 30
      script[#script + 1] = "set title " .. gp_string(p.title or "")
      script[#script + 1] = "set xlabel " .. gp_string(p.xlabel or "")
      script[#script + 1] = ("set xrange [%.9g:%.9g]"):format(lo, hi)
      local parts = {}
      for i, s in ipairs(series) do
        local counts, w = histogram(s.values, lo, hi, bins)
        local total = #s.values
        local name = os.tmpname()
        local f = assert(io.open(name, "w"))
        for b = 1, bins do
          local c = counts[b]
          if p.density ~= false and total > 0 then c = c / (total * w) end
          f:write(("%.9g %.9g\n"):format(lo + (b - 0.5) * w, c))
        end
        f:close()
        files[#files + 1] = name
        parts[#parts + 1] = ("%s using 1:2 with %s lw 2 title %s"):format(gp_string(name),
          i == 1 and "boxes" or "histeps", gp_string(s.title or ("series " .. i)))
      end
      if #parts > 0 then script[#script + 1] = "plot " .. table.concat(parts, ", ") end
    end
    script[#script + 1] = "unset multiplot"
    return run(script, files, o.path)
  end

  --- mpm.plot.read_metrics(path) -> {column = {values}}, columns: a CSV or JSONL metrics file as
  --- written by mpm.train (missing values are NaN).
  function plot.read_metrics(path)
    local f, err = io.open(path, "r")
    if not f then error("plot.read_metrics: " .. tostring(err), 2) end
    local data, columns = {}, {}
    if path:match("%.jsonl$") then
      for line in f:lines() do
        for key, value in line:gmatch('"([%w_]+)"%s*:%s*([-%deE%.naifNAIF]+)') do
          if not data[key] then data[key] = {}; columns[#columns + 1] = key end
        end
      end
      f:seek("set", 0)
      local row = 0
      for line in f:lines() do
        row = row + 1
        for _, key in ipairs(columns) do data[key][row] = 0 / 0 end
        for key, value in line:gmatch('"([%w_]+)"%s*:%s*([-%deE%.naifNAIF]+)') do data[key][row] = tonumber(value) or 0 / 0 end
      end
    else
      local head = f:read("l")
      if not head then f:close(); return data, columns end
      for name in head:gmatch("[^,]+") do columns[#columns + 1] = name; data[name] = {} end
      for line in f:lines() do
        local i = 0
        for cell in (line .. ","):gmatch("([^,]*),") do
          i = i + 1
          if columns[i] then data[columns[i]][#data[columns[i]] + 1] = tonumber(cell) or 0 / 0 end
        end
      end
    end
    f:close()
    return data, columns
  end

  --- mpm.plot.loss_curve(metrics_path, png_path [, title]) -> path or nil, message: training
  --- losses (total and per task) and validation losses against the step, on a log scale when
  --- they are positive and span more than a factor 20.
  function plot.loss_curve(metrics_path, png_path, title)
    local data, columns = plot.read_metrics(metrics_path)
    local steps = data.step
    if not steps or #steps == 0 then return nil, "plot.loss_curve: no rows in " .. tostring(metrics_path) end
    local series, positive, lo, hi = {}, true, math.huge, -math.huge
    for _, c in ipairs(columns) do
      if c == "loss" or c:match("^loss_") or c:match("^val_loss") then
        local xs, ys = {}, {}
        for i, v in ipairs(data[c]) do
          if v == v then
            xs[#xs + 1] = steps[i]; ys[#ys + 1] = v
            if v <= 0 then positive = false end
            lo, hi = math.min(lo, v), math.max(hi, v)
          end
        end
        if #ys > 0 then
          series[#series + 1] = { x = xs, y = ys, title = c, style = c:match("^val") and "linespoints" or "lines" }
        end
      end
    end
    return plot.lines { path = png_path, series = series, title = title or "training losses", xlabel = "step",
      ylabel = "loss", logy = positive and hi > 20 * lo }
  end

  mpm.plot = plot
end
