-- mpm.nn, the Lua half: the module protocol and Lua-defined modules, plus utilities. The Swift
-- modules themselves (Linear, TransformerEncoder, ...) are registered by the core, whose nn
-- table this extends and returns.
local nn = require "mpm.nn.module"
nn.utils = require "mpm.nn.utils"
return nn
