-- mpm.nn.functional from Lua: PyTorch names and semantics with 1-based dims and labels,
-- keyword arguments as options tables, gradients, and the errors a script can run into.
local T = require "mpm.testing"
local F = mpm.nn.functional

local function max_abs_diff(a, b) return (a - b):abs():max():item() end

-- softmax / log_softmax: dims count from 1, the default is the last dim
local x = mpm.tensor({{0.0, math.log(2), math.log(3)}, {1.0, 1.0, 1.0}})
local p = F.softmax(x, 2)
T.close(p:tolist()[1][3], 0.5, 1e-6, "softmax([0, ln2, ln3])[3] = 3/6")
T.close(p:tolist()[2][1], 1 / 3, 1e-6, "softmax of equal logits")
T.close(max_abs_diff(F.softmax(x), p), 0, 1e-7, "dim defaults to -1")
T.close(max_abs_diff(x:softmax(-1), p), 0, 1e-7, "t:softmax")
T.close(max_abs_diff(mpm.softmax(x, 2), p), 0, 1e-7, "mpm.softmax")
T.close(max_abs_diff(F.log_softmax(x, 2):exp(), p), 0, 1e-6, "log_softmax")
T.close(max_abs_diff(x:log_softmax(2), F.log_softmax(x, 2)), 0, 1e-7, "t:log_softmax")
T.close(F.softmax(x, 1):sum(1):tolist()[3], 1, 1e-6, "softmax over dim 1 sums to 1 down the columns")
T.raises(function() F.softmax(x, 0) end, "dim 0 is invalid")
T.raises(function() F.softmax(x, 3) end, "out of range")

-- layer_norm: normalized_shape as a size or a table; the short form normalises the last dim
local h = mpm.tensor({{1.0, 2.0, 3.0}, {2.0, 4.0, 6.0}})
local s = math.sqrt(2 / 3 + 1e-5)
T.close(F.layer_norm(h, 3):tolist()[1][3], 1 / s, 1e-5, "layer_norm")
local w, b = mpm.tensor({2.0, 1.0, 0.5}), mpm.tensor({0.0, 10.0, 1.0})
T.close(F.layer_norm(h, {3}, w, b):tolist()[1][2], 10, 1e-6, "layer_norm with weight and bias")
T.close(max_abs_diff(F.layer_norm(h, w, b), F.layer_norm(h, 3, w, b)), 0, 1e-7, "short form")
T.close(F.layer_norm(h:reshape(1, 2, 3), {2, 3}):sum():item(), 0, 1e-5, "two normalised dims")
T.raises(function() F.layer_norm(h, 2) end, "normalized_shape %[2%] must be the last dims")

-- cross_entropy: labels 1..C, ignore_index compared as given, options as in PyTorch
local logits = mpm.tensor({{1.0, 2.0, 3.0}, {1.0, 1.0, 1.0}, {5.0, 0.0, 0.0}})
local labels = mpm.tensor({3, 1, -100}, {dtype = "int64"})
local lse1 = math.log(math.exp(1) + math.exp(2) + math.exp(3))
local row1, row2 = lse1 - 3, math.log(3)
T.close(F.cross_entropy(logits, labels):item(), (row1 + row2) / 2, 1e-6, "mean over labels not ignored")
T.close(F.cross_entropy(logits, labels, {reduction = "sum"}):item(), row1 + row2, 1e-6, "sum")
local none = F.cross_entropy(logits, labels, {reduction = "none"}):tolist()
T.close(none[3], 0, 0, "ignored row is 0")
local cw = mpm.tensor({1.0, 2.0, 3.0})
T.close(F.cross_entropy(logits, labels, {weight = cw}):item(), (3 * row1 + 1 * row2) / 4, 1e-6,
  "class weights: mean divides by the summed weight")
local smooth1 = 0.9 * row1 + 0.1 / 3 * ((lse1 - 1) + (lse1 - 2) + (lse1 - 3))
local smooth2 = 0.9 * row2 + 0.1 * row2
T.close(F.cross_entropy(logits, labels, {label_smoothing = 0.1}):item(), (smooth1 + smooth2) / 2, 1e-6,
  "label smoothing")
T.close(F.cross_entropy(logits, mpm.tensor({3, 1, 2}, {dtype = "int64"}), {ignore_index = 2}):item(),
  (row1 + row2) / 2, 1e-6, "custom ignore_index")
local probs = F.softmax(mpm.randn(3, 3), 2)
T.close(F.cross_entropy(logits, probs):item(),
  (-(probs * F.log_softmax(logits, 2)):sum() / 3):item(), 1e-5, "probability targets")
T.raises(function() F.cross_entropy(logits, mpm.tensor({0, 1, 2}, {dtype = "int64"})) end,
  "target 0 at position 1 is out of range 1..3")
T.raises(function() F.cross_entropy(logits, labels, {reduction = "avg"}) end, 'expected "mean", "sum" or "none"')
T.raises(function() F.cross_entropy(logits, labels, {smoothing = 0.1}) end, "unknown option 'smoothing'")
T.raises(function() F.cross_entropy(logits, mpm.tensor({1, 2}, {dtype = "int64"})) end, "needs a target of shape %[3%]")

-- gradients flow through the fused kernels
local z = mpm.tensor({{0.5, -1.0, 2.0}, {0.0, 0.3, -0.7}}, {requires_grad = true})
F.cross_entropy(z, mpm.tensor({2, 3}, {dtype = "int64"})):backward()
local soft = F.softmax(z:detach(), 2):tolist()
T.close(z.grad:tolist()[1][2], (soft[1][2] - 1) / 2, 1e-6, "d CE / d logit of the label = (p - 1) / N")
T.close(z.grad:tolist()[2][1], soft[2][1] / 2, 1e-6, "d CE / d other logit = p / N")

-- binary cross-entropy on logits and the regression losses
local zero = mpm.zeros(2)
local target = mpm.tensor({1.0, 0.0})
T.close(F.binary_cross_entropy_with_logits(zero, target):item(), math.log(2), 1e-6, "bce at 0")
T.close(F.binary_cross_entropy_with_logits(zero, target, {pos_weight = mpm.tensor({3.0}), reduction = "sum"}):item(),
  4 * math.log(2), 1e-6, "pos_weight")
T.close(F.binary_cross_entropy_with_logits(mpm.tensor({100.0}), mpm.tensor({0.0})):item(), 100, 1e-5, "stable for large logits")
local a, c = mpm.tensor({1.0, 2.0, 3.0}), mpm.tensor({0.0, 2.0, 5.0})
T.close(F.mse_loss(a, c):item(), 5 / 3, 1e-6, "mse")
T.close(F.l1_loss(a, c, {reduction = "sum"}):item(), 3, 1e-6, "l1 sum")
T.close(F.smooth_l1_loss(a, c, {reduction = "none"}):tolist()[3], 1.5, 1e-6, "smooth_l1")
T.close(F.smooth_l1_loss(a, c, {beta = 4}):item(), (0.5 / 4 + 0.5 * 4 / 4) / 3, 1e-6, "smooth_l1 beta")
T.close(F.huber_loss(a, c, {delta = 2, reduction = "none"}):tolist()[3], 2, 1e-6, "huber")
T.raises(function() F.mse_loss(a, mpm.zeros(2)) end, "cannot broadcast")

-- swiglu
T.close(F.swiglu(mpm.tensor({{2.0, 3.0}})):item(), 2 / (1 + math.exp(-2)) * 3, 1e-6, "swiglu")
T.raises(function() F.swiglu(mpm.zeros(2, 3)) end, "even size")

-- packed attention: each set attends within itself; equals running each set on its own
local offsets = mpm.tensor({0, 1, 4, 11}, {dtype = "int64"})
local q, k, v = mpm.randn(11, 8), mpm.randn(11, 8), mpm.randn(11, 8)
local out = F.packed_attention(q, k, v, offsets, {num_heads = 2})
T.equal(out:shape()[2], 8, "output width")
T.close(max_abs_diff(out[1], v[1]), 0, 1e-6, "a set of one row returns its value")
local alone = F.packed_attention(q:narrow(1, 5, 7), k:narrow(1, 5, 7), v:narrow(1, 5, 7),
  mpm.tensor({0, 7}, {dtype = "int64"}), {num_heads = 2})
T.close(max_abs_diff(out:narrow(1, 5, 7), alone), 0, 1e-6, "sets do not see each other")
local kv_offsets = mpm.tensor({0, 2, 3, 5}, {dtype = "int64"})
local cross = F.packed_attention(q, k:narrow(1, 1, 5), v:narrow(1, 1, 5), offsets,
  {kv_offsets = kv_offsets, num_heads = 2, scale = 0.5})
T.equal(cross:shape()[1], 11, "cross-attention keeps the query rows")
local qg = mpm.randn(11, 8, {requires_grad = true})
F.packed_attention(qg, k, v, offsets, {num_heads = 2}):sum():backward()
T.equal(qg.grad:shape()[1], 11, "gradient reaches the queries")
T.raises(function() F.packed_attention(q, k, v, offsets) end, "num_heads is required")
T.raises(function() F.packed_attention(q, k, v, offsets, {heads = 2}) end, "unknown option 'heads'")
T.raises(function() F.packed_attention(q, k, v, mpm.tensor({0, 5}, {dtype = "int64"}), {num_heads = 2}) end,
  "offsets end at 5 but the packed tensor has 11 rows")
local positional = F.packed_attention(q, k:narrow(1, 1, 5), v:narrow(1, 1, 5), offsets, kv_offsets, {num_heads = 2, scale = 0.5})
T.close(max_abs_diff(positional, cross), 0, 0, "kv_offsets as argument 5")
T.raises(function() F.packed_attention(q, k, v, offsets, offsets, {kv_offsets = offsets, num_heads = 2}) end, "given twice")
