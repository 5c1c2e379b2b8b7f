-- train.Checkpoint: one file holding the state of every stateful part of a run (model, tasks,
-- optimiser, schedule, EMA, random generator) plus its position, written atomically as a
-- record of its kind (mpm.records), so that a run restored from it continues exactly.
local mpm = require "mpm.core"
local records = mpm.records
local checkpoint = {}

local Checkpoint = {}
Checkpoint.__index = Checkpoint

-- Fields of the position every checkpoint carries, and what each must be.
local position = {
  step = function(v) return math.type(v) == "integer" and v >= 0 end,
  epoch = function(v) return math.type(v) == "integer" and v >= 1 end,
  batch_index = function(v) return math.type(v) == "integer" and v >= 0 end,
  elapsed = function(v) return v == nil or (type(v) == "number" and v >= 0) end,
}

--- train.Checkpoint{path=, kind=, parts={name = part}, optional={name = true}} -> checkpoint.
--- A part is anything with part:state_dict() and part:load_state_dict(state) (modules,
--- optimisers, schedules, EMA, or train.state_of(get, set)); optional parts may be absent
--- from the file. kind is the record kind (mpm.records.kinds: "train-checkpoint",
--- "finetune-checkpoint"). checkpoint:save(fields) writes the parts and `fields` (step, epoch,
--- batch_index, elapsed, ...); checkpoint:load([path]) -> record checks the file and returns it;
--- checkpoint:restore(record) loads every part from it.
function checkpoint.Checkpoint(o)
  return setmetatable({ path = o.path, kind = o.kind, parts = o.parts, optional = o.optional or {} }, Checkpoint)
end

function Checkpoint:save(fields)
  local record = {}
  for k, v in pairs(fields) do record[k] = v end
  for name, part in pairs(self.parts) do record[name] = part:state_dict() end
  records.save(self.path, self.kind, record)
end

function Checkpoint:load(path)
  path = path or self.path
  if not mpm.files.exists(path) then error("train: resume: no checkpoint at " .. path, 0) end
  local ok, record = pcall(records.load, path, self.kind)
  if not ok then error("train: resume: " .. tostring(record), 0) end
  for name, valid in pairs(position) do
    if not valid(record[name]) then
      error(("train: resume: %s has an invalid %s (%s)"):format(path, name, tostring(record[name])), 0)
    end
  end
  return record
end

function Checkpoint:restore(record)
  for name, part in pairs(self.parts) do
    if record[name] ~= nil then
      part:load_state_dict(record[name])
    elseif not self.optional[name] then
      error(("train: resume: the checkpoint has no state for %s"):format(name), 0)
    end
  end
end

--- train.state_of(get, set) -> part: a checkpoint part from two functions (a generator's
--- get_state/set_state, a list of task states).
function checkpoint.state_of(get, set)
  return { state_dict = function() return get() end, load_state_dict = function(_, s) set(s) end }
end

return checkpoint
