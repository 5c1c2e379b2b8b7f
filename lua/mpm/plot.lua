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

  -- Where plots are drawn besides their PNG. plot.terminal: "auto" (in the REPL on a terminal:
  -- sixel when the terminal shows sixel images, ANSI text otherwise; nothing in scripts),
  -- "sixel", "dumb" (text), or "none". The MPMLUA_PLOT_TERMINAL environment variable sets the
  -- default; a plot's terminal= option overrides both.
  plot.terminal = os.getenv("MPMLUA_PLOT_TERMINAL") or "auto"

  local sixel_terms = { mlterm = true, foot = true, ["foot-extra"] = true, yaft = true, ["yaft-256color"] = true,
    contour = true, wezterm = true, ["xterm-sixel"] = true }
  local sixel_programs = { WezTerm = true, ["iTerm.app"] = true, mintty = true, contour = true, Konsole = false }

  --- mpm.plot.sixel_supported() -> boolean: whether the terminal is known to show sixel images
  --- (TERM mlterm, foot, yaft, contour, wezterm or *sixel*; TERM_PROGRAM WezTerm, iTerm.app,
  --- mintty; or MPMLUA_SIXEL=1) and gnuplot has its sixelgd terminal. The terminal is not
  --- queried: an escape-sequence query would race the line editor for the reply.
  ---   if mpm.plot.sixel_supported() then print("plots draw as images") end
  function plot.sixel_supported()
    local term, program = os.getenv("TERM") or "", os.getenv("TERM_PROGRAM") or ""
    local known = os.getenv("MPMLUA_SIXEL") == "1" or sixel_terms[term] or term:find("sixel", 1, true) or sixel_programs[program]
    if not known or not plot.available() then return false end
    local ok = os.execute("gnuplot -e 'set terminal sixelgd' >/dev/null 2>&1")
    return ok == true or ok == 0
  end

  --- mpm.plot.terminal_kind([requested]) -> "sixel", "dumb" or "none": what a plot draws in the
  --- terminal for terminal=requested (default mpm.plot.terminal); "auto" draws only in the
  --- REPL with standard output on a terminal.
  ---   mpm.plot.terminal = "dumb"; print(mpm.plot.terminal_kind())   -- "dumb"
  function plot.terminal_kind(requested)
    requested = requested or plot.terminal
    if requested == "sixel" or requested == "dumb" or requested == "none" then return requested end
    if requested ~= "auto" then error(("plot: terminal must be auto, sixel, dumb or none, got %s"):format(tostring(requested)), 2) end
    if rawget(_G, "_MPMLUA_REPL") == nil or not mpm._mpm.isatty(1) then return "none" end
    return plot.sixel_supported() and "sixel" or "dumb"
  end

  -- The terminal lines of a script for the terminal: text the size of the window (COLUMNS x
  -- LINES, else 100 x 32, ANSI colours on a terminal) or a sixel image.
  local function terminal_header(kind, width, height)
    if kind == "sixel" then
      return ("set terminal sixelgd size %d,%d truecolor font 'Sans,10'"):format(math.min(width, 900), math.min(height, 600))
    end
    local cols = tonumber(os.getenv("COLUMNS") or "") or 100
    local rows = tonumber(os.getenv("LINES") or "") or 32
    return ("set terminal dumb size %d,%d%s"):format(math.max(40, math.min(cols, 160)), math.max(16, math.min(rows - 2, 50)),
      mpm._mpm.isatty(1) and " ansi" or "")
  end

  -- Writes the PNG (o.out) and draws in the terminal (o.terminal); `body` is the script after
  -- the terminal and output lines. gnuplot renders to files or standard output and exits, so a
  -- plot never leaves a window or a process behind and never waits for input.
  local function render(name, body, data_files, o)
    local kind = plot.terminal_kind(o.terminal)
    if not o.out and kind == "none" then
      for _, f in ipairs(data_files) do os.remove(f) end
      error(("plot.%s: out= (a .png path) is required outside the REPL (or pass terminal=\"dumb\")"):format(name), 3)
    end
    if not plot.available() then
      for _, f in ipairs(data_files) do os.remove(f) end
      return nil, "gnuplot is not installed (run `make deps`); skipped " .. tostring(o.out)
    end
    local path = o.out or nil
    if path then
      local script = header(path, o.width or 900, o.height or 600)
      for _, line in ipairs(body) do script[#script + 1] = line end
      local ok, err = run(script, {}, path)
      if not ok then
        for _, f in ipairs(data_files) do os.remove(f) end
        return nil, err
      end
    end
    if kind ~= "none" then
      local script = header("/dev/null", o.width or 900, o.height or 600)
      script[1] = terminal_header(kind, o.width or 900, o.height or 600)
      table.remove(script, 2)  -- output: standard output
      for _, line in ipairs(body) do
        -- Text has no colours off a terminal: each group gets its own point character.
        if kind == "dumb" then line = line:gsub("pt 7 ps [%d%.]+ lt (%d+)", "pt %1 lt %1") end
        script[#script + 1] = line
      end
      local script_path = os.tmpname()
      local f = assert(io.open(script_path, "w"))
      f:write(table.concat(script, "\n"), "\n")
      f:close()
      io.stdout:flush()
      os.execute("gnuplot " .. mpm.files.quote(script_path) .. " 2>/dev/null")
      io.stdout:write("\n")
      os.remove(script_path)
    end
    for _, d in ipairs(data_files) do os.remove(d) end
    return path or kind
  end

  local function data_file(rows)
    local name = os.tmpname()
    local f = assert(io.open(name, "w"))
    f:write(table.concat(rows, "\n"), "\n")
    f:close()
    return name
  end

  -- Per-group lists of positions 1..n: groups (labels, a tensor or list) or one group of all.
  local function split_groups(n, groups, names)
    local g = groups and values_of(groups, "groups") or nil
    local members, order = {}, {}
    for i = 1, n do
      local key = g and math.tointeger(g[i]) or 1
      if not members[key] then members[key] = {}; order[#order + 1] = key end
      local m = members[key]
      m[#m + 1] = i
    end
    table.sort(order)
    local out = {}
    for _, key in ipairs(order) do
      out[#out + 1] = { members = members[key], key = key,
        title = g and ((names and names[key]) or ("class " .. key)) or nil }
    end
    return out
  end

  local scatter_options = { x = true, y = true, groups = true, names = true, color = true, color_label = true, out = true,
    title = true, xlabel = true, ylabel = true, key = true, terminal = true, width = true, height = true, point_size = true }

  --- mpm.plot.scatter{x=, y=, groups=, names=, color=, out=, title=, xlabel=, ylabel=,
  --- key="outside right", terminal=, point_size=0.4, width=900, height=600} -> path (or the
  --- terminal kind) or nil, message: points (x, y), one colour per group (groups = class
  --- numbers, names = their titles; the legend outside the data) or a colour scale by `color`
  --- values. Writes a PNG at out and in the REPL draws in the terminal (mpm.plot.terminal_kind).
  ---   mpm.plot.scatter{x = P:select(2, 1), y = P:select(2, 2), groups = E.labels, names = E.classes, out = "pca.png"}
  function plot.scatter(o)
    mpm.check_option_names("plot.scatter", o, scatter_options)
    local x, y = values_of(o.x, "x"), values_of(o.y, "y")
    if #x ~= #y then error(("plot.scatter: x has %d values, y %d"):format(#x, #y), 2) end
    local body = { "set key " .. (o.key or "outside right top") }
    if o.title then body[#body + 1] = "set title " .. gp_string(o.title) end
    if o.xlabel then body[#body + 1] = "set xlabel " .. gp_string(o.xlabel) end
    if o.ylabel then body[#body + 1] = "set ylabel " .. gp_string(o.ylabel) end
    local files, parts = {}, {}
    local ps = o.point_size or 0.4
    if o.color then
      local c = values_of(o.color, "color")
      local rows = {}
      for i = 1, #x do rows[i] = ("%.7g %.7g %.7g"):format(x[i], y[i], c[i]) end
      files[1] = data_file(rows)
      body[#body + 1] = "set palette rgb 33,13,10"
      if o.color_label then body[#body + 1] = "set cblabel " .. gp_string(o.color_label) end
      parts[1] = ("%s using 1:2:3 with points pt 7 ps %g lc palette notitle"):format(gp_string(files[1]), ps)
    else
      for i, g in ipairs(split_groups(#x, o.groups, o.names)) do
        local rows = {}
        for j, m in ipairs(g.members) do rows[j] = ("%.7g %.7g"):format(x[m], y[m]) end
        files[#files + 1] = data_file(rows)
        parts[#parts + 1] = ("%s using 1:2 with points pt 7 ps %g lt %d %s"):format(gp_string(files[#files]), ps,
          (i - 1) % 10 + 1, g.title and ("title " .. gp_string(g.title)) or "notitle")
      end
    end
    if #parts == 0 then
      for _, f in ipairs(files) do os.remove(f) end
      return nil, "plot.scatter: nothing to plot"
    end
    body[#body + 1] = "plot " .. table.concat(parts, ", ")
    return render("scatter", body, files, o)
  end

  local hist_options = { values = true, groups = true, names = true, bins = true, range = true, density = true, out = true,
    title = true, xlabel = true, ylabel = true, key = true, terminal = true, width = true, height = true, logy = true }

  --- mpm.plot.hist{values=, groups=, names=, bins=40, range={lo, hi}, density=false, logy=false,
  --- out=, title=, xlabel=, key="outside right", terminal=} -> path (or the terminal kind) or nil,
  --- message: step histograms of values, one per group (as in mpm.plot.scatter) on shared bins.
  --- Writes a PNG at out and in the REPL draws in the terminal.
  ---   mpm.plot.hist{values = E.mass, groups = E.labels, names = E.classes, out = "mass.png", xlabel = "mass"}
  function plot.hist(o)
    mpm.check_option_names("plot.hist", o, hist_options)
    local v = values_of(o.values, "values")
    local lo, hi
    if o.range then lo, hi = o.range[1], o.range[2] else
      lo, hi = math.huge, -math.huge
      for _, x in ipairs(v) do if x == x then lo, hi = math.min(lo, x), math.max(hi, x) end end
      if lo == math.huge then lo, hi = 0, 1 end
      if hi <= lo then hi = lo + 1 end
    end
    local bins = o.bins or 40
    local body = { "set key " .. (o.key or "outside right top"), ("set xrange [%.9g:%.9g]"):format(lo, hi) }
    if o.title then body[#body + 1] = "set title " .. gp_string(o.title) end
    if o.xlabel then body[#body + 1] = "set xlabel " .. gp_string(o.xlabel) end
    body[#body + 1] = "set ylabel " .. gp_string(o.ylabel or (o.density and "density" or "jets"))
    if o.logy then body[#body + 1] = "set logscale y" end
    local files, parts = {}, {}
    for i, g in ipairs(split_groups(#v, o.groups, o.names)) do
      local mine = {}
      for j, m in ipairs(g.members) do mine[j] = v[m] end
      local counts, w = histogram(mine, lo, hi, bins)
      local rows = {}
      for b = 1, bins do
        local c = counts[b]
        if o.density and #mine > 0 then c = c / (#mine * w) end
        rows[b] = ("%.9g %.9g"):format(lo + (b - 0.5) * w, c)
      end
      files[#files + 1] = data_file(rows)
      parts[#parts + 1] = ("%s using 1:2 with histeps lw 2 lt %d %s"):format(gp_string(files[#files]), (i - 1) % 10 + 1,
        g.title and ("title " .. gp_string(g.title)) or "notitle")
    end
    body[#body + 1] = "plot " .. table.concat(parts, ", ")
    return render("hist", body, files, o)
  end

  mpm.plot = plot
end
