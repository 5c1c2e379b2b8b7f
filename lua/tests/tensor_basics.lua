-- Tensor creation, views, indexing and arithmetic from Lua, against hand-computed values.
local T = require "mpm.testing"

-- Creation and dtypes
local x = mpm.tensor({{1, 2, 3}, {4, 5, 6}})
T.equal(x:dtype(), "int64", "integer literal dtype")
T.equal(mpm.tensor({1.5}):dtype(), "float32", "float literal dtype")
T.equal(mpm.tensor({true, false}):dtype(), "bool", "boolean literal dtype")
T.equal(#x, 2, "#x")
T.equal(x:size(2), 3, "size(2)")
T.equal(x:size(-1), 3, "size(-1)")
T.equal(x:numel(), 6, "numel")
T.equal(mpm.zeros(2, 3):sum():item(), 0, "zeros")
T.equal(mpm.ones({2, 3}, {dtype = "int64"}):sum():item(), 6, "ones int64")
T.equal(mpm.full({2, 2}, 2.5):sum():item(), 10, "full")
T.equal(mpm.eye(3):sum():item(), 3, "eye")
T.equal(mpm.arange(5):sum():item(), 10, "arange 0..4")
T.equal(mpm.arange(1, 10, 3):tolist()[3], 7, "arange with step")
T.close(mpm.linspace(0, 1, 5):tolist()[2], 0.25, 1e-7, "linspace")
T.raises(function() mpm.tensor({{1, 2}, {3}}) end, "rectangular")
T.raises(function() mpm.zeros(2, {dtpe = "int64"}) end, "unknown option 'dtpe'")
T.raises(function() mpm.zeros(2.5) end, "number has no integer representation")

-- Views share storage; 1-based dims and indices
local m = mpm.arange(12):reshape(3, 4):float()
T.equal(m[2][3]:item(), 6, "m[2][3]")
T.equal(m[-1][-1]:item(), 11, "negative indices")
T.equal(m:select(2, 1):tolist()[3], 8, "select column 1")
T.equal(m:narrow(2, 2, 2):tolist()[1][2], 2, "narrow")
T.equal(m:transpose(1, 2):shape()[1], 4, "transpose shape")
T.equal(m:t()[4][3]:item(), 11, "t()")
local row = m[1]
row[1] = 100
T.equal(m[1][1]:item(), 100, "a view writes through to its base")
m[{2, {2, 3}}] = -1
T.equal(m:sum(2):tolist()[2], 4 - 1 - 1 + 7, "slice assignment")
T.equal(m[{{}, 4}]:tolist()[3], 11, "{} keeps a dim")
T.equal(m[{{1, -1, 2}, 1}]:tolist()[2], 8, "range with step")
T.equal(m:unsqueeze(1):dim(), 3, "unsqueeze(1)")
T.equal(m:unsqueeze(-1):shape()[3], 1, "unsqueeze(-1)")
T.equal(m:flatten():numel(), 12, "flatten")
T.raises(function() return m[0] end, "index 0 is invalid")
T.raises(function() return m[4] end, "out of range")
T.raises(function() return m:sum(0) end, "dim 0 is invalid")
T.raises(function() return m:sum(3) end, "dim 3 out of range")

-- Arithmetic with numbers on either side and broadcasting
local a = mpm.tensor({1.0, 2.0, 3.0})
T.equal((a + 1):tolist()[1], 2, "a + 1")
T.equal((1 - a):tolist()[3], -2, "1 - a")
T.equal((2 / a):tolist()[2], 1, "2 / a")
T.equal((a ^ 2):tolist()[3], 9, "a ^ 2")
T.equal((2 ^ a):tolist()[3], 8, "2 ^ a")
T.equal((-a):tolist()[1], -1, "unary minus")
local col = mpm.tensor({{10.0}, {20.0}})
T.equal((a + col):shape()[1], 2, "broadcast rows")
T.equal((a + col):sum():item(), 6 * 2 + 30 * 3, "broadcast sum")
T.raises(function() return a + mpm.ones(4) end, "cannot broadcast")
T.equal(a:lt(2):sum():item(), 1, "comparison method")
T.equal(a:exp():log():sub(a):abs():max():item() < 1e-6, true, "exp/log round trip")

-- Reductions, max with 1-based indices
local r = mpm.tensor({{3.0, 9.0, 1.0}, {7.0, 2.0, 8.0}})
local values, indices = r:max(2)
T.equal(values:tolist()[1], 9, "max values")
T.equal(indices:tolist()[2], 3, "max indices are 1-based")
T.equal(r:argmin():item(), 3, "argmin over all (1-based)")
T.close(r:mean():item(), 5, 1e-6, "mean")
T.close(r:var():item(), 11.6, 1e-5, "unbiased variance")  -- squared deviations 58 over 5

-- Matrix product against a hand-computed result
local p = mpm.tensor({{1.0, 2.0}, {3.0, 4.0}}):matmul(mpm.tensor({{5.0, 6.0}, {7.0, 8.0}}))
T.equal(p[1][1]:item(), 19, "matmul 11")
T.equal(p[2][2]:item(), 50, "matmul 22")
T.raises(function() mpm.ones(2, 3):matmul(mpm.ones(2, 3)) end, "matmul")

-- The same tensor is always the same userdata
local base = mpm.zeros(3)
base.requires_grad = true
local twice = mpm.autograd.grad_of((base * 2):sum(), { base })
T.equal(twice[1]:sum():item(), 6, "grad_of")

-- Released tensors raise instead of crashing
local dead = mpm.ones(2)
dead:release()
T.raises(function() return dead:sum() end, "tensor has been released")
dead:release()  -- twice is harmless
do
  local closed <close> = mpm.ones(2)
end

-- tostring like PyTorch
assert(tostring(mpm.tensor({1, 2})):find("tensor%(%[1, 2%], dtype=int64%)"), tostring(mpm.tensor({1, 2})))

-- einsum
local ea = mpm.tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}})
local eb = mpm.tensor({{1.0, 0.0}, {0.0, 1.0}, {1.0, 1.0}})
local ec = mpm.einsum("ij,jk->ik", ea, eb)
T.equal(ec[1][1]:item(), 4, "einsum 11")
T.equal(ec[2][2]:item(), 11, "einsum 22")
T.equal(mpm.einsum("ij,jk", { ea, eb })[2][1]:item(), 10, "einsum implicit, list")
T.equal(mpm.einsum("ij->", ea):item(), 21, "einsum total")
T.equal(mpm.einsum("ij->ji", ea)[3][2]:item(), 6, "einsum transpose")
T.raises(function() mpm.einsum("ii->i", mpm.ones(2, 2)) end, "diagonals are not supported")
local ew = mpm.ones(3)
ew.requires_grad = true
local eg = mpm.autograd.grad_of(mpm.einsum("ij,j->", ea, ew), { ew })
T.equal(eg[1][3]:item(), 9, "einsum grad")
-- einsum with '...' (broadcast leading dims), against matmul
local ex, ew3 = mpm.randn(3, 4, 5), mpm.randn(1, 5, 2)
T.equal((mpm.einsum("...ij,...jk->...ik", ex, ew3) - ex:matmul(ew3)):abs():max():item() < 1e-5, true, "einsum with ...")
