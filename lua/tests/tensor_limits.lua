-- Requests no machine could satisfy are errors in the user's terms, never a crash of the host.
local T = require "mpm.testing"

T.raises(function() return mpm.zeros(100000, 100000) end, "would not fit in this machine's")
T.raises(function() return mpm.randn(2^31, 2^31) end, "would not fit")
T.raises(function() return mpm.zeros(2^40, 2^40, 0) end, "too large")
T.equal(mpm.zeros(2^20, 0):numel(), 0, "an empty tensor with a large size is fine")
T.raises(function() return mpm.zeros(4):view(2^40, 2^40) end, "invalid for input of shape")
T.raises(function() return mpm.ones(1, 1):expand(100000, 100000) end, "would not fit")
T.raises(function() return mpm.arange(0, 1e300) end, "would not fit")
T.raises(function() return mpm.linspace(0, 1, 2^40) end, "would not fit")
T.raises(function() return mpm.tensor({1, 2}):one_hot(2^40) end, "would not fit")
T.raises(function() return mpm.ones(100000, 1) + mpm.ones(1, 100000) end, "would not fit")
T.raises(function() return mpm.ones(100000, 1):matmul(mpm.ones(1, 100000)) end, "would not fit")
T.raises(function() return mpm.ones(100000):outer(mpm.ones(100000)) end, "would not fit")
