-- mpm.optim, the Lua half: optimiser objects, the EMA and learning-rate schedules, on the
-- Swift update kernels registered by the core (mpm.optim._adam, _sgd, _ema_update, _swap).
return function(mpm)
  require "mpm.optim.optimizer" (mpm)
  require "mpm.optim.sgd" (mpm)
  require "mpm.optim.adam" (mpm)
  require "mpm.optim.ema" (mpm)
  require "mpm.optim.lr_scheduler" (mpm)
end
