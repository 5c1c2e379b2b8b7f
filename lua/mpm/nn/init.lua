-- mpm.nn, the Lua half: the module protocol and Lua-defined modules, plus utilities. The Swift
-- modules themselves (Linear, TransformerEncoder, ...) are registered by the core.
return function(mpm)
  require "mpm.nn.module" (mpm)
  require "mpm.nn.utils" (mpm)
end
