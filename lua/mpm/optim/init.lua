-- mpm.optim, the Lua half: optimiser objects, the EMA and learning-rate schedules, on the
-- Swift update kernels registered by the core (mpm.optim._adam, _sgd, _ema_update, _swap).
-- Each file below extends the core's optim table; this returns it.
require "mpm.optim.optimizer"
require "mpm.optim.sgd"
require "mpm.optim.adam"
require "mpm.optim.ema"
require "mpm.optim.lr_scheduler"
return require("mpm.core").optim
