-- mpm.linalg bindings: eigh, svd, cdist and their errors.
local T = require "mpm.testing"
mpm.manual_seed(2)

local w, v = mpm.linalg.eigh(mpm.tensor({ { 2, 1 }, { 1, 2 } }, { dtype = "float32" }))
T.close(w[1]:item(), 1, 1e-5, "smallest eigenvalue")
T.close(w[2]:item(), 3, 1e-5, "largest eigenvalue")
T.equal(v:size(1), 2, "vectors are 2x2")

local a = mpm.randn(6, 4)
local u, s, vt = mpm.linalg.svd(a)
T.equal(u:size(2), 4, "thin U")
local back = (u * s):matmul(vt)
T.equal((back - a):abs():max():item() < 1e-4, true, "U*S*Vt reconstructs a")

local x, y = mpm.randn(5, 3), mpm.randn(4, 3)
local d = mpm.linalg.cdist(x, y)
T.equal(d:size(1), 5, "rows of a")
T.equal(d:size(2), 4, "rows of b")
T.close(d[2][3]:item(), (x[2] - y[3]):pow(2):sum():sqrt():item(), 1e-4, "euclidean entry")
local c = mpm.linalg.cdist(x, x, { metric = "cosine" })
T.equal(c:min():item() >= 0, true, "cosine clamped at 0")

T.raises(function() mpm.linalg.eigh(mpm.randn(2, 3)) end, "square")
T.raises(function() mpm.linalg.svd(mpm.randn(3)) end, "2-D")
T.raises(function() mpm.linalg.cdist(x, y, { metric = "manhattan" }) end, "unknown metric")
print("tensor_linalg: ok")
