-- train.Metrics: one row per logged step and per validation, as CSV (a header, then one line
-- per row) or JSONL (one object per line), flushed at every row so a crash loses nothing.
-- The lines are mpm.tabular's, so every file of rows reads back the same way.
local mpm = require "mpm.core"
local tabular = require "mpm.tabular"

local metrics = {}

local Metrics = {}
Metrics.__index = Metrics

-- The step of a line already in the file (nil for the CSV header and for a line cut short by
-- a kill). A CSV row starts with its step.
local function step_of(line, format, is_header)
  if format == "csv" then return not is_header and tonumber(line:match("^([^,]*)")) or nil end
  local ok, row = pcall(mpm.json.decode, line)
  return ok and type(row) == "table" and tonumber(row.step) or nil
end

-- The rows of an existing file up to step `keep_until` (a resumed run drops what came after
-- its checkpoint, since those steps are run again).
local function kept_rows(path, format, keep_until)
  local kept = {}
  if not keep_until or not mpm.files.exists(path) then return kept end
  local f, err = io.open(path, "r")
  if not f then error("train: " .. tostring(err), 0) end
  local first = true
  for line in f:lines() do
    local step = step_of(line, format, first)
    first = false
    if step and step <= keep_until then kept[#kept + 1] = line end
  end
  f:close()
  return kept
end

--- metrics.Metrics(path, format, columns [, keep_until]) -> metrics: format "csv" or "jsonl";
--- with keep_until, the rows of an existing file up to that step are kept (the rewrite is
--- atomic: killed during it, the old file stays whole).
--- metrics:write(row) (row: column -> number; other keys are not written); metrics:close().
---   local m = require("mpm.train.metrics").Metrics("run/metrics.csv", "csv", {"step", "loss"})
---   m:write{step = 1, loss = 0.5}; m:close()
function metrics.Metrics(path, format, columns, keep_until)
  local self = setmetatable({ path = path, format = format, columns = columns }, Metrics)
  local lines = kept_rows(path, format, keep_until)
  if format == "csv" then table.insert(lines, 1, table.concat(columns, ",")) end
  lines[#lines + 1] = ""
  -- Rewritten atomically (header, rows up to the checkpoint), so a kill here loses no row;
  -- then appended to, a whole row at a time.
  mpm.files.write(path, table.concat(lines, "\n"))
  local f, err = io.open(path, "a")
  if not f then error("train: cannot write metrics file " .. tostring(err), 0) end
  self.file = f
  return self
end

function Metrics:write(row)
  if self.format == "csv" then
    self.file:write(tabular.csv_line(self.columns, row), "\n")
  else
    local picked = {}
    for _, c in ipairs(self.columns) do picked[c] = row[c] end
    self.file:write(tabular.jsonl_line(picked), "\n")
  end
  self.file:flush()
end

function Metrics:close() if self.file then self.file:close(); self.file = nil end end

return metrics
