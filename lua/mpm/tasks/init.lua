-- mpm.tasks and mpm.MPM: the MPM backbone, the built-in reconstruction tasks (Swift cores in
-- Lua classes), the VQ-VAE tokenizer, the base class of Lua-defined tasks, and with them
-- mpm.train (the pre-training loop) and mpm.plot (gnuplot figures).
--   installed by lua/mpm/init.lua: require "mpm.tasks" (mpm) (a second call does nothing)
return function(mpm)
  if rawget(mpm.tasks, "Task") then return mpm end
  require "mpm.tasks.task" (mpm)
  require "mpm.tasks.builtin" (mpm)
  require "mpm.tasks.tokenizer" (mpm)
  require "mpm.tasks.model" (mpm)
  mpm.tasks.cli = require "mpm.cli"  -- the old name, until its last users move to mpm.cli
  require "mpm.tasks.pretraining" (mpm)
  require "mpm.plot" (mpm)
  require "mpm.train" (mpm)
  return mpm
end
