-- train.Metrics: one row per logged step and per validation, as CSV (a header, then one line
-- per row) or JSONL (one object per line), flushed at every row so a crash loses nothing.
return function(mpm, train)
  local Metrics = {}
  Metrics.__index = Metrics

  local function step_of(line, format, is_header)
    if format == "csv" then return not is_header and tonumber(line:match("^([^,]*)")) or nil end
    return tonumber(line:match('"step"%s*:%s*(%d+)'))
  end

  -- The rows of an existing file up to step `keep_until` (a resumed run drops what came after
  -- its checkpoint, since those steps are run again).
  local function kept_rows(path, format, keep_until)
    local kept = {}
    local f = keep_until and io.open(path, "r")
    if not f then return kept end
    local first = true
    for line in f:lines() do
      local step = step_of(line, format, first)
      first = false
      if step and step <= keep_until then kept[#kept + 1] = line end
    end
    f:close()
    return kept
  end

  --- train.Metrics(path, format, columns [, keep_until]) -> metrics: format "csv" or "jsonl";
  --- with keep_until, the rows of an existing file up to that step are kept.
  --- metrics:write(row) (row: column -> number); metrics:close().
  function train.Metrics(path, format, columns, keep_until)
    local self = setmetatable({ path = path, format = format, columns = columns }, Metrics)
    local kept = kept_rows(path, format, keep_until)
    -- Rewritten in full (header, rows up to the checkpoint), then appended to.
    local f, err = io.open(path, "w")
    if not f then error("train: cannot write metrics file " .. path .. ": " .. tostring(err), 0) end
    if format == "csv" then f:write(table.concat(columns, ","), "\n") end
    for _, line in ipairs(kept) do f:write(line, "\n") end
    self.file = f
    f:flush()
    return self
  end

  local function finite(v) return v == v and v ~= math.huge and v ~= -math.huge end

  function Metrics:write(row)
    local cells = {}
    for _, c in ipairs(self.columns) do
      local v = row[c]
      local text = v ~= nil and (math.type(v) == "integer" and tostring(v) or ("%.8g"):format(v)) or nil
      if self.format == "csv" then
        cells[#cells + 1] = text or ""
      elseif v ~= nil then
        cells[#cells + 1] = ('"%s": %s'):format(c, (math.type(v) == "integer" or finite(v)) and text or "null")
      end
    end
    if self.format == "csv" then
      self.file:write(table.concat(cells, ","), "\n")
    else
      self.file:write("{", table.concat(cells, ", "), "}\n")
    end
    self.file:flush()
  end

  function Metrics:close() if self.file then self.file:close(); self.file = nil end end
end
