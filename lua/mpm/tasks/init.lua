-- mpm.tasks, the Lua half: the base class of Lua-defined tasks, the built-in reconstruction
-- tasks (Swift cores in Lua classes), presets and the VQ-VAE tokenizer, in the core's tasks
-- table, which this returns. mpm.MPM is the package's other module, mpm.tasks.model.
local tasks = require "mpm.tasks.builtin"
tasks.Task = require "mpm.tasks.task"
tasks.VQTokenizer = require "mpm.tasks.tokenizer"
return tasks
