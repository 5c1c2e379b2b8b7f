-- The tasks of a pre-training run (train.task_list and friends): a checked list with unique
-- names, their parameters in the trainer's order, their summed loss on a batch, and their
-- states in a checkpoint.
local nn = require "mpm.nn"
local loop = require "mpm.train.loop"
local checkpoint = require "mpm.train.checkpoint"
local task_set = {}

local function fail(message) error("train: " .. message, 3) end

--- train.task_list(tasks) -> list of {task=, name=, weight=, input=}: the tasks of a run with
--- unique names (a list, or a map name -> task), each checked to have a loss method.
function task_set.list(tasks)
  if type(tasks) ~= "table" then fail("tasks must be a list of tasks") end
  local list = {}
  if #tasks > 0 then
    for i, t in ipairs(tasks) do list[i] = t end
  else
    local names = {}
    for name in pairs(tasks) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      local t = tasks[name]
      if type(t) == "table" and rawget(t, "name") == nil then t.name = name end
      list[#list + 1] = t
    end
  end
  if #list == 0 then fail("at least one task is needed") end
  local seen = {}
  for i, t in ipairs(list) do
    if type(t) ~= "table" or type(t.loss) ~= "function" then
      fail(("task %d has no loss method (a task is anything with task:loss(decoded, target))"):format(i))
    end
    local name = t.name or ("task" .. i)
    if seen[name] then name = name .. i end
    seen[name] = true
    list[i] = { task = t, name = tostring(name), weight = t.weight or 1, input = t.input or "decoded" }
    if type(list[i].weight) ~= "number" then fail("task " .. name .. ": weight must be a number") end
    if list[i].input ~= "decoded" and list[i].input ~= "encoded" then
      fail("task " .. name .. ": input must be 'decoded' or 'encoded'")
    end
  end
  return list
end

--- train.parameters(model, tasks) -> list: the trained tensors in the trainer's order
--- (the model's, then each task's, each once); EMA averages in a checkpoint follow it.
function task_set.parameters(model, tasks)
  local modules = { model }
  for _, t in ipairs(tasks) do modules[#modules + 1] = nn.is_module(t) and t or false end
  return nn.utils.parameters_of(modules, "train")
end

--- train.task_losses(model, tasks, need_decoded, step, batch) -> total, {name = value}: the summed,
--- weighted loss of every task (a train.task_list) on one batch, and each task's value.
function task_set.losses(model, tasks, need_decoded, step, batch)
  local outputs = model(batch, { decode = need_decoded })
  local total, parts = nil, {}
  for _, t in ipairs(tasks) do
    local input = t.input == "encoded" and outputs.encoded or outputs.decoded
    local loss = t.task:loss(input, outputs.target)
    parts[t.name] = loop.check_loss(step, t.name, loss)
    local weighted = t.weight == 1 and loss or loss * t.weight
    total = total and total + weighted or weighted
  end
  return total, parts
end

--- train.task_states(tasks) -> part: the task states of a checkpoint, by task name.
function task_set.states(tasks)
  return checkpoint.state_of(function()
    local states = {}
    for _, t in ipairs(tasks) do
      if nn.is_module(t.task) then states[t.name] = t.task:state_dict() end
    end
    return states
  end, function(states)
    for _, t in ipairs(tasks) do
      if nn.is_module(t.task) then
        local sd = states[t.name]
        if sd == nil then error("train: resume: the checkpoint has no state for task " .. t.name, 0) end
        t.task:load_state_dict(sd)
      end
    end
  end)
end

return task_set
