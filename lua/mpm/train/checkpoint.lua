-- train.Checkpoint: one file holding the state of every stateful part of a run (model, tasks,
-- optimiser, schedule, EMA, random generator) plus its position, written atomically by
-- mpm.save, so that a run restored from it continues exactly.
return function(mpm, train)
  local Checkpoint = {}
  Checkpoint.__index = Checkpoint

  -- Fields of the position every checkpoint carries, and what each must be.
  local position = {
    step = function(v) return math.type(v) == "integer" and v >= 0 end,
    epoch = function(v) return math.type(v) == "integer" and v >= 1 end,
    batch_index = function(v) return math.type(v) == "integer" and v >= 0 end,
    elapsed = function(v) return v == nil or (type(v) == "number" and v >= 0) end,
  }

  --- train.Checkpoint{path=, format=, parts={name = part}, optional={name = true}} -> checkpoint.
  --- A part is anything with part:state_dict() and part:load_state_dict(state) (modules,
  --- optimisers, schedules, EMA, or a table of two functions); optional parts may be absent
  --- from the file. checkpoint:save(fields) writes the parts and `fields` (step, epoch,
  --- batch_index, elapsed, ...); checkpoint:load([path]) -> record checks the file and returns it;
  --- checkpoint:restore(record) loads every part from it.
  function train.Checkpoint(o)
    return setmetatable({ path = o.path, format = o.format, parts = o.parts, optional = o.optional or {} }, Checkpoint)
  end

  function Checkpoint:save(fields)
    local record = { format = self.format }
    for k, v in pairs(fields) do record[k] = v end
    for name, part in pairs(self.parts) do record[name] = part:state_dict() end
    mpm.save(self.path, record)
  end

  function Checkpoint:load(path)
    path = path or self.path
    if not mpm.files.exists(path) then error("train: resume: no checkpoint at " .. path, 0) end
    local record = mpm.load(path)
    if type(record) ~= "table" or record.format ~= self.format then
      error(("train: resume: %s is not a %s"):format(path, self.format), 0)
    end
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
  function train.state_of(get, set)
    return { state_dict = function() return get() end, load_state_dict = function(_, s) set(s) end }
  end
end
