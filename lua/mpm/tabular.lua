-- mpm.tabular: rows of numbers (and short strings) as CSV and JSONL files, written and read
-- in one place. Numbers are written one way everywhere: integers plain, other numbers with 8
-- significant digits (%.8g); JSONL goes through mpm.json (one object per line, NaN and
-- infinities as null). In CSV, NaN is an empty cell (missing) and infinities are inf and -inf;
-- a cell holding a comma or a quote is quoted ("a,b", "say ""hi""").
--
--   local tabular = require "mpm.tabular"
--   tabular.write_csv("sweep.csv", {"size", "auc"}, {{size = 100, auc = 0.81}})
--   local columns, rows = tabular.read_csv("sweep.csv")   -- rows[1].auc == 0.81
local mpm = require "mpm.core"

local tabular = {}

-- A number as the files hold it: integers plain, others to 8 significant digits.
local function number_text(v)
  return math.type(v) == "integer" and tostring(v) or ("%.8g"):format(v)
end

-- Infinities as a CSV cell holds them; Lua's tonumber reads neither.
local infinities = { inf = math.huge, ["-inf"] = -math.huge }

-- A CSV cell: "" for a missing value or NaN (as JSONL's null), inf or -inf, the number's text,
-- or the string (quoted when it holds a comma or a quote; a line break would split the row, so
-- it is an error).
local function cell(v)
  if v == nil or v ~= v then return "" end
  if v == math.huge then return "inf" elseif v == -math.huge then return "-inf" end
  if type(v) == "number" then return number_text(v) end
  local text = tostring(v)
  if text:find("[\r\n]") then error(("tabular: the cell %q holds a line break"):format(text), 3) end
  if text:find('[,"]') then return '"' .. text:gsub('"', '""') .. '"' end
  return text
end

--- tabular.csv_line(columns, row) -> text: one CSV line (no newline) of row's values in the
--- order of columns; a missing value or NaN is an empty cell, infinities are inf and -inf.
---   tabular.csv_line({"step", "loss"}, {step = 10, loss = 0.25})   -- "10,0.25"
function tabular.csv_line(columns, row)
  local cells = {}
  for i, c in ipairs(columns) do cells[i] = cell(row[c]) end
  return table.concat(cells, ",")
end

--- tabular.csv_text(columns, rows) -> text: a header line of the column names, then one line
--- per row (tabular.csv_line), each ending in a newline.
---   print(tabular.csv_text({"size", "auc"}, {{size = 100, auc = 0.8125}}))
function tabular.csv_text(columns, rows)
  local lines = { table.concat(columns, ",") }
  for _, row in ipairs(rows) do lines[#lines + 1] = tabular.csv_line(columns, row) end
  return table.concat(lines, "\n") .. "\n"
end

--- tabular.write_csv(path, columns, rows): replaces path by tabular.csv_text(columns, rows)
--- atomically (mpm.files.write: a reader sees the old file or the new one).
---   tabular.write_csv("out/sweep.csv", {"backbone", "seed", "auc"}, rows)
function tabular.write_csv(path, columns, rows)
  mpm.files.write(path, tabular.csv_text(columns, rows))
end

-- The cells of one CSV line: a number where a cell reads as one, nil where empty, the text
-- otherwise (a quoted cell is always text).
local function cells_of(line, path, number)
  local cells, position, count = {}, 1, 0
  while true do
    count = count + 1
    if line:sub(position, position) == '"' then
      local parts, from = {}, position + 1
      while true do
        local quote = line:find('"', from, true)
        if not quote then error(("tabular.read_csv: %s:%d has an unclosed quote"):format(path, number), 3) end
        parts[#parts + 1] = line:sub(from, quote - 1)
        if line:sub(quote + 1, quote + 1) ~= '"' then position = quote + 1; break end
        parts[#parts + 1] = '"'
        from = quote + 2
      end
      cells[count] = table.concat(parts)
    else
      local text = line:match("^[^,]*", position)
      position = position + #text
      if text ~= "" then cells[count] = tonumber(text) or infinities[text] or text end
    end
    if line:sub(position, position) ~= "," then return cells, count end
    position = position + 1
  end
end

--- tabular.read_csv(path) -> columns, rows: the header's column names and one table per line
--- (column -> number, inf and -inf included, or the text of a cell that is not a number; empty
--- cells are absent). A line with more cells than the header has columns is an error.
---   local columns, rows = tabular.read_csv("runs/cfm/metrics.csv"); print(rows[#rows].loss)
function tabular.read_csv(path)
  local f, err = io.open(path, "r")
  if not f then error("tabular.read_csv: " .. tostring(err), 2) end
  local text = f:read("a")
  f:close()
  local columns, rows, number = {}, {}, 0
  if text == "" then return columns, rows end
  for line in text:gmatch("([^\n]*)\n?") do
    number = number + 1
    line = line:gsub("\r$", "")
    if number == 1 then
      local names, count = cells_of(line, path, number)
      for i = 1, count do columns[i] = tostring(names[i] or "") end
    elseif line ~= "" then
      local row, cells, count = {}, cells_of(line, path, number)
      -- A cell without a column would be lost without a word.
      if count > #columns then
        error(("tabular.read_csv: %s:%d has %d cells but the header names %d columns"):format(path, number, count, #columns), 2)
      end
      for i, name in ipairs(columns) do row[name] = cells[i] end
      rows[#rows + 1] = row
    end
  end
  return columns, rows
end

--- tabular.jsonl_line(row) -> text: row as one line of JSON (no newline) through mpm.json:
--- keys sorted, floats to 8 significant digits, NaN and infinities as null.
---   tabular.jsonl_line{step = 10, loss = 0.25}   -- '{"loss":0.25,"step":10}'
function tabular.jsonl_line(row)
  local rounded = {}
  for k, v in pairs(row) do
    rounded[k] = math.type(v) == "float" and v == v and v ~= math.huge and v ~= -math.huge and tonumber(number_text(v)) or v
  end
  return mpm.json.encode(rounded, { indent = false })
end

--- tabular.read_jsonl(path) -> rows: one table per non-empty line of a JSONL file (mpm.json;
--- null values are absent). An error names the line that is not JSON.
---   for _, row in ipairs(tabular.read_jsonl("runs/cfm/metrics.jsonl")) do print(row.step, row.loss) end
function tabular.read_jsonl(path)
  local f, err = io.open(path, "r")
  if not f then error("tabular.read_jsonl: " .. tostring(err), 2) end
  local rows, number = {}, 0
  for line in f:lines() do
    number = number + 1
    if line:find("%S") then
      local ok, row = pcall(mpm.json.decode, line)
      if not ok or type(row) ~= "table" then
        f:close()
        error(("tabular.read_jsonl: %s:%d is not a JSON object"):format(path, number), 2)
      end
      rows[#rows + 1] = row
    end
  end
  f:close()
  return rows
end

return tabular
