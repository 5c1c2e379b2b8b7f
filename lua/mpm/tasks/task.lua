-- mpm.tasks.Task: the base class of reconstruction tasks written in Lua (DESIGN.md, Tasks).
-- A task is a module with
--   task:loss(decoded, target) -> scalar tensor      (required)
--   task:sample(decoded, target [, options]) -> {features = [Td,7], types = [Td]}  (optional)
-- `decoded` is the decoder output at the dropped particles [Td, decoder_dim] (or, with
-- task.input = "encoded", the encoder output with registers); `target` is an mpm.DroppedSet
-- (features, types 1..8, offsets, ranks, rows, jet_features, jet_types, jet_offsets,
-- encoded_offsets). Parameters stored on the task are trained with the model and saved in
-- checkpoints. task.weight (default 1) scales the loss in the sum, task.name names it in logs.
--
--   local Chamfer = mpm.tasks.Task:extend "Chamfer"
--   function Chamfer:init(o) self.name = "chamfer"; self.head = mpm.nn.Linear(o.input_dim, 7) end
--   function Chamfer:loss(decoded, target) ... end
local nn = require "mpm.nn"
local Task = nn.Module:extend "Task"
Task.weight = 1
Task.input = "decoded"

--- task:loss(decoded, target) -> scalar tensor: override in every task.
function Task:loss()
  error(self.__name .. ": loss is not defined (define " .. self.__name .. ":loss(decoded, target))", 2)
end

--- task(decoded, target) is task:loss(decoded, target).
function Task:forward(decoded, target) return self:loss(decoded, target) end

--- task:can_sample() -> whether the task generates particles.
function Task:can_sample() return type(self.sample) == "function" end

return Task
