-- Run by DistributedTests under mpirun -n 2: a sweep's sweep.csv is current while the sweep runs.
-- Four stand-in runs (no training) dealt 1, 3 to rank 0 and 2, 4 to rank 1; barriers order them
-- so that, when rank 0 starts run 3, runs 1 and 2 are finished and run 4 is not: the CSV rank 0
-- rewrote after run 1 must list exactly runs 1 and 2. arg[1]: the sweep's directory.
local dist, files = mpm.distributed, mpm.files
local tabular = require "mpm.tabular"
local csv = files.join(arg[1], "sweep.csv")
local runs = {}
for i = 1, 4 do runs[i] = { out = files.join(arg[1], "run" .. i), index = i } end

local function finish(r)
  files.mkdir(r.out)
  files.write(files.join(r.out, "result.json"), mpm.json.encode({ value = 10 * r.index }))
end
local between
local rows = mpm.downstream.sweep {
  runs = runs, csv = csv, quiet = true,
  columns = { names = { "index", "value" }, index = function(e) return e.run.index end,
    value = function(e) return e.result.value end },
  run = function(r)
    local path = files.join(r.out, "result.json")
    if files.exists(path) then return mpm.downstream.read_result(path), true end
    if r.index <= 2 then
      finish(r); dist.barrier()            -- both ranks' first runs are done before rank 0 writes the CSV
    elseif r.index == 3 then
      local _, seen = tabular.read_csv(csv)  -- rank 0, between its runs
      local listed = {}
      for _, row in ipairs(seen) do listed[#listed + 1] = tostring(row.index) end
      between = table.concat(listed, ",")
      dist.barrier(); finish(r)
    else
      dist.barrier(); finish(r)            -- rank 1's last run ends only after rank 0 read the CSV
    end
    return mpm.downstream.read_result(path)
  end }
if dist.is_main() then
  local _, final = tabular.read_csv(csv)
  print(("between: %s; final: %d rows, %d returned"):format(between, #final, #rows))
end
