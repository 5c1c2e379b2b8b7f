-- mpm.tasks, the Lua half: the base class of Lua-defined tasks, the built-in reconstruction
-- tasks (Swift cores in Lua classes), presets and the VQ-VAE tokenizer, in the core's tasks
-- table, which this returns. mpm.MPM is the package's other module, mpm.tasks.model.
local mpm = require "mpm.core"
local tasks = require "mpm.tasks.builtin"
tasks.Task = require "mpm.tasks.task"
tasks.VQTokenizer = require "mpm.tasks.tokenizer"
tasks.cli = require "mpm.cli"  -- the old name, until its last users move to mpm.cli
-- pretraining.lua keeps the old form (a function of mpm) until it moves to mpm.pretrain.
require "mpm.tasks.pretraining" (mpm)
return tasks
