-- mpm.plot: figures through gnuplot (installed by `make`, package gnuplot-nox). Every plot
-- takes the same options: out = a PNG path, terminal = where to draw besides it (in the REPL on
-- a terminal: the terminal; see mpm.plot.terminal_kind), title, xlabel, width, height. Each
-- writes its data to temporary files and runs gnuplot (one function starts it, `gnuplot`
-- below); it returns the PNG path, or nil and a message where gnuplot is missing or fails, so
-- a training run never dies for want of a plot. Histograms (hist, histograms) share one
-- binning: 40 equal bins over the values' range, counts per bin (density = true divides by
-- the count and the bin width, so series of different sizes compare).
--
--   mpm.plot.loss_curve("run/metrics.csv", "run/loss.png")
--   mpm.plot.lines{out = "a.png", series = {{x = xs, y = ys, title = "train"}}}
--   mpm.plot.histograms{out = "h.png", columns = 3, panels = {{title = "pt", density = true,
--     series = {{values = true_pt, title = "true"}, {values = rec_pt, title = "reconstructed"}}}}}
local mpm = require "mpm.core"
local options = require "mpm.options"
local tabular = require "mpm.tabular"

local plot = {}

local HISTOGRAM_BINS = 40

local function gp_string(s) return '"' .. tostring(s):gsub('\\', '\\\\'):gsub('"', '\\"') .. '"' end

local available
--- mpm.plot.available() -> true when gnuplot can be run.
---   if not mpm.plot.available() then print("no figures: install gnuplot") end
function plot.available()
  if available == nil then
    local ok = os.execute("command -v gnuplot >/dev/null 2>&1")
    available = ok == true or ok == 0
  end
  return available
end

-- A temporary file holding lines (gnuplot's scripts and data); the caller removes it.
local function data_file(lines)
  local name = os.tmpname()
  local f = assert(io.open(name, "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  return name
end

-- gnuplot's reason for failing, in one line, from what it printed on its standard error:
-- `"/tmp/x" line 2: cannot open file; output not changed` then `system error: No such file
-- or directory` read as "cannot open file; output not changed (No such file or directory)".
local function gnuplot_reason(text)
  local reason, system
  for line in text:gmatch("[^\n]+") do
    reason = line:match('^".-",? line %d+: (.*)$') or reason
    system = line:match("^system error: (.*)$") or system
  end
  reason = reason or text:match("([^\n]*%S[^\n]*)\n*$") or "no message"
  return system and ("%s (%s)"):format(reason, system) or reason
end

-- The one place gnuplot starts: runs a script given as lines -> true, or false and gnuplot's
-- reason (a plot reports failure by its return value). gnuplot renders to files or standard
-- output and exits, so a plot never leaves a window or a process behind and never waits for input.
local function gnuplot(script)
  local script_path, errors_path = data_file(script), os.tmpname()
  local ok = os.execute("gnuplot " .. mpm.files.quote(script_path) .. " 2>" .. mpm.files.quote(errors_path))
  os.remove(script_path)
  local f = io.open(errors_path)
  local errors = f and f:read("a") or ""
  if f then f:close() end
  os.remove(errors_path)
  if ok == true or ok == 0 then return true end
  return false, gnuplot_reason(errors)
end

-- Errors for inputs that cannot make a meaningful figure: one line naming the plot function.
local function refuse(fmt, ...) error(fmt:format(...), 0) end

-- A tensor or a list of numbers as a list of numbers; name and what say where it came from.
local function values_of(v, what, name)
  if mpm.is_tensor(v) then return v:reshape(-1):float():tolist() end
  if type(v) ~= "table" then refuse("plot.%s: %s must be a tensor or a list of numbers, got %s", name, what, type(v)) end
  for i = 1, #v do
    if type(v[i]) ~= "number" then refuse("plot.%s: %s[%d] is a %s, not a number", name, what, i, type(v[i])) end
  end
  return v
end

local function finite(v) return v == v and v ~= math.huge and v ~= -math.huge end

-- The count of finite values in a list.
local function count_finite(values)
  local n = 0
  for _, v in ipairs(values) do if finite(v) then n = n + 1 end end
  return n
end

-- A figure's size in pixels: width and height given (positive whole numbers) or the defaults.
local function size_of(name, o, width, height)
  for _, key in ipairs { "width", "height" } do
    local v = o[key]
    if v ~= nil and (math.type(v) ~= "integer" or v < 1) then
      refuse("plot.%s: %s must be a positive whole number of pixels, got %s", name, key, tostring(v))
    end
  end
  return o.width or width, o.height or height
end

local function remove_all(names) for _, name in ipairs(names) do os.remove(name) end end

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
  return (gnuplot { "set terminal sixelgd" })
end

--- mpm.plot.terminal_kind([requested]) -> "sixel", "dumb" or "none": what a plot draws in the
--- terminal for terminal=requested (default mpm.plot.terminal); "auto" draws only in the
--- REPL with standard output on a terminal.
---   mpm.plot.terminal = "dumb"; print(mpm.plot.terminal_kind())   -- "dumb"
function plot.terminal_kind(requested)
  requested = requested or plot.terminal
  if requested == "sixel" or requested == "dumb" or requested == "none" then return requested end
  if requested ~= "auto" then error(("plot: terminal must be auto, sixel, dumb or none, got %s"):format(tostring(requested)), 2) end
  if rawget(_G, "_MPMLUA_REPL") == nil or not mpm.files.isatty(1) then return "none" end
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
    mpm.files.isatty(1) and " ansi" or "")
end

-- Writes the PNG (o.out) and draws in the terminal (o.terminal); `body` is the script after
-- the terminal and output lines; the data files are removed afterwards.
local function render(name, body, data_files, o, width, height)
  local kind = plot.terminal_kind(o.terminal)
  if not o.out and kind == "none" then
    remove_all(data_files)
    error(("plot.%s: out= (a .png path) is required outside the REPL (or pass terminal=\"dumb\")"):format(name), 3)
  end
  if not plot.available() then
    remove_all(data_files)
    return nil, "gnuplot is not installed (run `make deps`); skipped " .. tostring(o.out)
  end
  if o.out then
    -- A missing folder is created (runs/explore/pca.png in a fresh clone): a figure is a
    -- look at something, not worth a failed call.
    local made, why = pcall(mpm.files.mkdir, mpm.files.dirname(o.out))
    if not made then
      remove_all(data_files)
      return nil, ("plot.%s: cannot write %s: %s"):format(name, tostring(o.out), tostring(why))
    end
    local script = header(o.out, width, height)
    for _, line in ipairs(body) do script[#script + 1] = line end
    local ok, reason = gnuplot(script)
    if not ok then
      remove_all(data_files)
      return nil, ("gnuplot failed to write %s: %s"):format(tostring(o.out), reason)
    end
  end
  if kind ~= "none" then
    local script = header("/dev/null", width, height)
    script[1] = terminal_header(kind, width, height)
    table.remove(script, 2)  -- output: standard output
    for _, line in ipairs(body) do
      -- Text has no colours off a terminal: each group gets its own point character.
      if kind == "dumb" then line = line:gsub("pt 7 ps [%d%.]+ lt (%d+)", "pt %1 lt %1") end
      script[#script + 1] = line
    end
    io.stdout:flush()
    gnuplot(script)
    io.stdout:write("\n")
  end
  remove_all(data_files)
  return o.out or kind
end

-- The labels every plot takes: title, xlabel, ylabel.
local function labels(body, o)
  if o.title then body[#body + 1] = "set title " .. gp_string(o.title) end
  if o.xlabel then body[#body + 1] = "set xlabel " .. gp_string(o.xlabel) end
  if o.ylabel then body[#body + 1] = "set ylabel " .. gp_string(o.ylabel) end
end

--- mpm.plot.lines{out=, series={{x=, y=, yerr=, title=, style=}...}, title=, xlabel=, ylabel=,
--- logx=false, logy=false, key="top right", hlines={{y=, title=}}, caption=, terminal=,
--- width=900, height=560} -> path (or the terminal kind) or nil, message: line plot of one or
--- more series; a series with yerr (one half-width per point) gets error bars; the x axis spans
--- the data with a margin. hlines are dotted reference levels (chance); caption is a line of
--- small text under the plot. key is any gnuplot key placement ("outside right", "bottom left").
---   mpm.plot.lines{out = "loss.png", series = {{x = {1, 2, 3}, y = {0.9, 0.5, 0.4}, title = "train"}}, logy = true}
function plot.lines(o)
  options.check_names("plot.lines", o, { out = true, series = true, title = true, xlabel = true, ylabel = true,
    logx = true, logy = true, key = true, terminal = true, width = true, height = true, hlines = true, caption = true }, 2)
  local body = {}
  labels(body, o)
  if o.logx then body[#body + 1] = "set logscale x" end
  if o.caption then
    body[#body + 1] = "set bmargin 6"
    body[#body + 1] = "set label " .. gp_string(o.caption) .. " at screen 0.02, screen 0.03 font ',9'"
  end
  if o.logy then body[#body + 1] = "set logscale y" end
  if o.key then body[#body + 1] = "set key " .. o.key end
  local width, height = size_of("lines", o, 900, 560)
  if type(o.series) ~= "table" or #o.series == 0 then refuse("plot.lines: series is empty: give {{x = ..., y = ...}, ...}") end
  -- Every series is checked before a file is written, so a refusal leaves nothing behind.
  local checked = {}
  for i, s in ipairs(o.series) do
    local title = s.title or ("series " .. i)
    local what = s.title and ("series %d (%s)"):format(i, title) or title
    local x, y = values_of(s.x, what .. " x", "lines"), values_of(s.y, what .. " y", "lines")
    local err = s.yerr and values_of(s.yerr, what .. " yerr", "lines")
    if #x ~= #y then refuse("plot.lines: %s has %d x values but %d y values", what, #x, #y) end
    if err and #err ~= #y then refuse("plot.lines: %s has %d yerr values for %d points", what, #err, #y) end
    -- Points that cannot be drawn (NaN, or not positive on a log axis) leave a gap; a series
    -- without any drawable point is a mistake.
    local rows = {}
    for j = 1, #x do
      local keep = finite(x[j]) and finite(y[j]) and (not o.logy or y[j] > 0) and (not o.logx or x[j] > 0)
      if keep then rows[#rows + 1] = ("%.9g %.9g %.9g"):format(x[j], y[j], err and err[j] or 0) end
    end
    if #rows == 0 then
      refuse("plot.lines: %s has no point to draw (%d points; none with finite x and y%s)", what, #x,
        (o.logx or o.logy) and ", positive on the log axes" or "")
    end
    checked[i] = { rows = rows, using = err and "1:2:3" or "1:2", style = s.style or (err and "yerrorlines" or "lines"),
      title = title }
  end
  -- The x axis spans the data with a margin, so no point (nor its error bar) sits on the frame.
  local lo, hi, xs, distinct = math.huge, -math.huge, {}, {}
  for _, c in ipairs(checked) do
    for _, row in ipairs(c.rows) do
      local x = tonumber(row:match("^(%S+)"))
      lo, hi = math.min(lo, x), math.max(hi, x)
      if not distinct[x] then distinct[x] = true; xs[#xs + 1] = ("%.9g"):format(x) end
    end
  end
  if hi > lo then
    local a, b = lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)
    if o.logx then a, b = lo / (hi / lo) ^ 0.05, hi * (hi / lo) ^ 0.05 end
    body[#body + 1] = ("set xrange [%.9g:%.9g]"):format(a, b)
  end
  -- A log axis over a few sizes (a sweep) is labelled at those sizes, not at powers of ten.
  if o.logx and #xs <= 12 then body[#body + 1] = "set xtics (" .. table.concat(xs, ", ") .. ")" end
  body[#body + 1] = "set offsets 0, 0, graph 0.05, graph 0.05"
  local files, parts = {}, {}
  for i, c in ipairs(checked) do
    files[i] = data_file(c.rows)
    parts[i] = ("%s using %s with %s lw 2 title %s"):format(gp_string(files[i]), c.using, c.style, gp_string(c.title))
  end
  -- Reference levels (chance, a baseline) as dotted horizontal lines across the plot.
  for _, line in ipairs(o.hlines or {}) do
    if type(line) ~= "table" or not finite(line.y) then refuse("plot.lines: each of hlines is {y = number, title = text}") end
    parts[#parts + 1] = ("%.9g with lines dt 3 lw 2 lc rgb 'gray40' title %s"):format(line.y, gp_string(line.title or ""))
  end
  body[#body + 1] = "plot " .. table.concat(parts, ", ")
  return render("lines", body, files, o, width, height)
end

-- The shared binning of several lists of values: the range (given, or the extent of the
-- finite values), `bins` equal bins (values outside are dropped), and per list the data rows
-- "centre height" (counts, or with density counts / (count x bin width)). `name` says whose
-- bins and range are refused ("hist", "histograms: panel 2 (pt)").
local function histogram_rows(name, lists, range, bins, density)
  if math.type(bins) ~= "integer" or bins < 1 then
    refuse("plot.%s: bins must be a positive whole number, got %s", name, tostring(bins))
  end
  local lo, hi
  if range then
    lo, hi = type(range) == "table" and range[1], type(range) == "table" and range[2]
    if type(lo) ~= "number" or type(hi) ~= "number" or not (finite(lo) and finite(hi) and lo < hi) then
      refuse("plot.%s: range must be {lo, hi} with finite lo < hi, got %s", name,
        type(range) == "table" and ("{%s, %s}"):format(tostring(range[1]), tostring(range[2])) or tostring(range))
    end
  else
    lo, hi = math.huge, -math.huge
    for _, values in ipairs(lists) do
      for _, v in ipairs(values) do if finite(v) then lo, hi = math.min(lo, v), math.max(hi, v) end end
    end
    if lo == math.huge then lo, hi = 0, 1 end
    if hi <= lo then hi = lo + 1 end
  end
  local width = (hi - lo) / bins
  local out = {}
  for i, values in ipairs(lists) do
    local counts = {}
    for b = 1, bins do counts[b] = 0 end
    for _, v in ipairs(values) do
      if v >= lo and v <= hi then
        local b = math.min(bins, math.floor((v - lo) / width) + 1)
        counts[b] = counts[b] + 1
      end
    end
    local rows = {}
    for b = 1, bins do
      local c = counts[b]
      if density and #values > 0 then c = c / (#values * width) end
      rows[b] = ("%.9g %.9g"):format(lo + (b - 0.5) * width, c)
    end
    out[i] = rows
  end
  return lo, hi, out
end

--- mpm.plot.histograms{out=, panels={{title=, xlabel=, bins=40, range={lo, hi}, density=false,
--- series={{values=, title=}...}}...}, columns=3, title=, terminal=, width=, height=} -> path (or
--- the terminal kind) or nil, message: a grid of step histograms (one panel per entry),
--- sharing binning within a panel; the first series of a panel is drawn filled.
---   mpm.plot.histograms{out = "h.png", panels = {{title = "pt", series = {{values = pt, title = "jets"}}}}}
function plot.histograms(o)
  options.check_names("plot.histograms", o, { out = true, panels = true, columns = true, title = true, terminal = true,
    width = true, height = true }, 2)
  local panels = o.panels or {}
  if type(panels) ~= "table" or #panels == 0 then refuse("plot.histograms: panels is empty: give {{series = {{values = ...}}}, ...}") end
  local columns = o.columns or math.min(3, #panels)
  if math.type(columns) ~= "integer" or columns < 1 then
    refuse("plot.histograms: columns must be a positive whole number, got %s", tostring(columns))
  end
  local rows = math.ceil(#panels / columns)
  local width, height = size_of("histograms", o, 420 * columns, 320 * rows + (o.title and 40 or 0))
  local body = { ("set multiplot layout %d,%d%s"):format(rows, columns, o.title and (" title " .. gp_string(o.title)) or ""),
    "set style fill transparent solid 0.25 border" }
  -- Every panel is binned before a file is written, so a refusal leaves nothing behind. A
  -- series may be empty (nothing of it in this panel), but a figure without any value, or a
  -- series whose values are all NaN or infinite, is refused.
  local binned, values_seen = {}, 0
  for k, p in ipairs(panels) do
    local where = ("histograms: panel %d%s"):format(k, p.title and (" (" .. tostring(p.title) .. ")") or "")
    if type(p.series) ~= "table" or #p.series == 0 then refuse("plot.%s has no series", where) end
    local lists = {}
    for i, s in ipairs(p.series) do
      local what = ("series %d%s values"):format(i, s.title and (" (" .. tostring(s.title) .. ")") or "")
      lists[i] = values_of(s.values, what, where)
      local usable = count_finite(lists[i])
      if #lists[i] > 0 and usable == 0 then refuse("plot.%s: %s: all %d are NaN or infinite", where, what, #lists[i]) end
      values_seen = values_seen + usable
    end
    binned[k] = { histogram_rows(where, lists, p.range, p.bins or HISTOGRAM_BINS, p.density) }
  end
  if values_seen == 0 then refuse("plot.histograms: no panel holds any value") end
  local files = {}
  for k, p in ipairs(panels) do
    local lo, hi, data = table.unpack(binned[k])
    body[#body + 1] = "set title " .. gp_string(p.title or "")
    body[#body + 1] = "set xlabel " .. gp_string(p.xlabel or "")
    body[#body + 1] = ("set xrange [%.9g:%.9g]"):format(lo, hi)
    local parts = {}
    for i, s in ipairs(p.series) do
      files[#files + 1] = data_file(data[i])
      parts[#parts + 1] = ("%s using 1:2 with %s lw 2 title %s"):format(gp_string(files[#files]),
        i == 1 and "boxes" or "histeps", gp_string(s.title or ("series " .. i)))
    end
    body[#body + 1] = "plot " .. table.concat(parts, ", ")
  end
  body[#body + 1] = "unset multiplot"
  return render("histograms", body, files, o, width, height)
end

--- mpm.plot.read_metrics(path) -> {column = {values}}, columns: a CSV or JSONL metrics file as
--- written by mpm.train, read through mpm.tabular (missing values are NaN).
---   local data = mpm.plot.read_metrics("runs/cfm/metrics.csv"); print(data.loss[#data.loss])
function plot.read_metrics(path)
  if type(path) ~= "string" then refuse("plot.read_metrics: path must be a metrics file (.csv or .jsonl), got %s", type(path)) end
  local columns, rows
  if path:match("%.jsonl$") then
    rows, columns = tabular.read_jsonl(path), {}
    local seen = {}
    for _, row in ipairs(rows) do
      local fresh = {}
      for key in pairs(row) do if not seen[key] then seen[key] = true; fresh[#fresh + 1] = key end end
      table.sort(fresh)
      table.move(fresh, 1, #fresh, #columns + 1, columns)
    end
  else
    columns, rows = tabular.read_csv(path)
  end
  local data = {}
  for _, c in ipairs(columns) do
    local values = {}
    for i, row in ipairs(rows) do values[i] = type(row[c]) == "number" and row[c] or 0 / 0 end
    data[c] = values
  end
  return data, columns
end

--- mpm.plot.loss_curve(metrics_path, png_path [, title]) -> path or nil, message: training
--- losses (total and per task) and validation losses against the step, on a log scale when
--- they are positive and span more than a factor 20. Written to the file only, never drawn in
--- the terminal (a run's figure, not a look).
---   mpm.plot.loss_curve("runs/cfm/metrics.csv", "runs/cfm/loss.png")
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
  if #series == 0 then return nil, "plot.loss_curve: no loss values in " .. tostring(metrics_path) end
  return plot.lines { out = png_path, terminal = "none", series = series, title = title or "training losses",
    xlabel = "step", ylabel = "loss", logy = positive and hi > 20 * lo }
end

-- Per-group lists of positions 1..n: groups (labels, a tensor or list of whole numbers, one
-- per point) or one group of all.
local function split_groups(name, n, groups, names)
  local g = groups and values_of(groups, "groups", name) or nil
  if g and #g ~= n then refuse("plot.%s: groups has %d values for %d points", name, #g, n) end
  local members, order = {}, {}
  for i = 1, n do
    local key = 1
    if g then
      key = math.tointeger(g[i])
      if not key then refuse("plot.%s: groups must be whole numbers (class numbers), found %s", name, tostring(g[i])) end
    end
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
  options.check_names("plot.scatter", o, scatter_options, 2)
  local width, height = size_of("scatter", o, 900, 600)
  local x, y = values_of(o.x, "x", "scatter"), values_of(o.y, "y", "scatter")
  if #x ~= #y then error(("plot.scatter: x has %d values, y %d"):format(#x, #y), 2) end
  if #x == 0 then refuse("plot.scatter: x and y are empty") end
  local drawable = 0
  for i = 1, #x do if finite(x[i]) and finite(y[i]) then drawable = drawable + 1 end end
  if drawable == 0 then refuse("plot.scatter: none of the %d points has finite x and y", #x) end
  local c = o.color and values_of(o.color, "color", "scatter")
  if c and #c ~= #x then refuse("plot.scatter: color has %d values for %d points", #c, #x) end
  local groups = not c and split_groups("scatter", #x, o.groups, o.names)
  local body = { "set key " .. (o.key or "outside right top") }
  labels(body, o)
  local files, parts = {}, {}
  local ps = o.point_size or 0.4
  if c then
    local rows = {}
    for i = 1, #x do rows[i] = ("%.7g %.7g %.7g"):format(x[i], y[i], c[i]) end
    files[1] = data_file(rows)
    body[#body + 1] = "set palette rgb 33,13,10"
    if o.color_label then body[#body + 1] = "set cblabel " .. gp_string(o.color_label) end
    parts[1] = ("%s using 1:2:3 with points pt 7 ps %g lc palette notitle"):format(gp_string(files[1]), ps)
  else
    for i, g in ipairs(groups) do
      local rows = {}
      for j, m in ipairs(g.members) do rows[j] = ("%.7g %.7g"):format(x[m], y[m]) end
      files[#files + 1] = data_file(rows)
      parts[#parts + 1] = ("%s using 1:2 with points pt 7 ps %g lt %d %s"):format(gp_string(files[#files]), ps,
        (i - 1) % 10 + 1, g.title and ("title " .. gp_string(g.title)) or "notitle")
    end
  end
  body[#body + 1] = "plot " .. table.concat(parts, ", ")
  return render("scatter", body, files, o, width, height)
end

local hist_options = { values = true, groups = true, names = true, bins = true, range = true, density = true, out = true,
  title = true, xlabel = true, ylabel = true, key = true, terminal = true, width = true, height = true, logy = true }

--- mpm.plot.hist{values=, groups=, names=, bins=40, range={lo, hi}, density=false, logy=false,
--- out=, title=, xlabel=, key="outside right", terminal=} -> path (or the terminal kind) or nil,
--- message: step histograms of values, one per group (as in mpm.plot.scatter) on shared bins.
--- Writes a PNG at out and in the REPL draws in the terminal.
---   mpm.plot.hist{values = E.mass, groups = E.labels, names = E.classes, out = "mass.png", xlabel = "mass"}
function plot.hist(o)
  options.check_names("plot.hist", o, hist_options, 2)
  local width, height = size_of("hist", o, 900, 600)
  local v = values_of(o.values, "values", "hist")
  if #v == 0 then refuse("plot.hist: values is empty") end
  if count_finite(v) == 0 then refuse("plot.hist: all %d values are NaN or infinite", #v) end
  local groups, lists = split_groups("hist", #v, o.groups, o.names), {}
  for i, g in ipairs(groups) do
    local mine = {}
    for j, m in ipairs(g.members) do mine[j] = v[m] end
    lists[i] = mine
  end
  local lo, hi, data = histogram_rows("hist", lists, o.range, o.bins or HISTOGRAM_BINS, o.density)
  local body = { "set key " .. (o.key or "outside right top"), ("set xrange [%.9g:%.9g]"):format(lo, hi) }
  labels(body, { title = o.title, xlabel = o.xlabel, ylabel = o.ylabel or (o.density and "density" or "jets") })
  if o.logy then body[#body + 1] = "set logscale y" end
  local files, parts = {}, {}
  for i, g in ipairs(groups) do
    files[i] = data_file(data[i])
    parts[i] = ("%s using 1:2 with histeps lw 2 lt %d %s"):format(gp_string(files[i]), (i - 1) % 10 + 1,
      g.title and ("title " .. gp_string(g.title)) or "notitle")
  end
  body[#body + 1] = "plot " .. table.concat(parts, ", ")
  return render("hist", body, files, o, width, height)
end

return plot
