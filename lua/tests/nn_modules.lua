-- Modules from Lua: Swift modules, the module protocol, Lua-defined modules nested both ways,
-- state dicts, train/eval, printing and errors.
local T = require "mpm.testing"
local nn = mpm.nn
mpm.manual_seed(1)

local function offsets(lengths)
  local o = { 0 }
  for i, n in ipairs(lengths) do o[i + 1] = o[i] + n end
  return mpm.tensor(o, { dtype = "int64" })
end

local function max_abs_diff(a, b) return (a - b):abs():max():item() end

-- Swift modules: call, fields, names ----------------------------------------------------------
local lin = nn.Linear(3, 2)
local x = mpm.randn(4, 3)
local y = lin(x)
T.equal(table.concat(y:shape(), ","), "4,2", "Linear output shape")
T.equal(table.concat(lin.weight:shape(), ","), "2,3", "lin.weight")
T.equal(lin.bias.requires_grad, true, "parameters require grad")
T.close(max_abs_diff(y, x:matmul(lin.weight:t()) + lin.bias), 0, 1e-6, "Linear formula")
T.equal(lin:forward(x):sum():item(), y:sum():item(), "forward equals call")
T.equal(lin:type_name(), "Linear", "type name")
T.equal(#lin:parameters(), 2, "two parameters")
T.equal(lin:num_parameters(), 8, "parameter count")

local names = {}
for name, p in nn.Sequential(nn.Linear(2, 4), nn.SiLU(), nn.Linear(4, 1)):named_parameters() do names[#names + 1] = name end
T.equal(table.concat(names, " "), "1.weight 1.bias 3.weight 3.bias", "dotted 1-based names")

-- Embedding ids count from 1 in Lua
local emb = nn.Embedding(8, 4)
local ids = mpm.tensor({ 1, 8, 3 }, { dtype = "int64" })
T.close(max_abs_diff(emb(ids)[1], emb.weight[1]), 0, 0, "id 1 is the first row")
T.raises(function() emb(mpm.tensor({ 0 }, { dtype = "int64" })) end, "out of range 1..8")

-- Packed-set modules: shapes, registers, pooling
local o = offsets({ 3, 1, 5 })
local h = mpm.randn(9, 8)
local enc = nn.TransformerEncoder(8, 2, 2, { registers = 4, layerscale_init = 1e-3 })
T.equal(table.concat(enc(h, o):shape(), ","), "9,8", "encoder keeps the input layout")
local keep = nn.TransformerEncoder(8, 1, 2, { registers = 4, keep_registers = true })
local kept, ko = keep(h, o)
T.equal(table.concat(kept:shape(), ","), "21,8", "registers kept: 9 + 3*4 rows")
T.equal(table.concat(ko:tolist(), ","), "0,7,12,21", "offsets with registers")
T.equal(table.concat(nn.ClassAttentionPooling(8, 2)(h, o):shape(), ","), "3,8", "one vector per set")
local dec = nn.TransformerDecoderLayer(8, 2, { kv_dim = 8, ctx_dim = 3 })
T.equal(table.concat(dec(h, o, h, o, mpm.randn(3, 3)):shape(), ","), "9,8", "decoder layer with context")
T.equal(table.concat(nn.CosineEncoding(16)(mpm.rand(5)):shape(), ","), "5,16", "cosine encoding")
T.equal(#nn.FourierEmbedding(8):parameters(), 0, "Fourier frequencies are a buffer")
T.equal(#nn.FourierEmbedding(8):buffers(), 1, "one buffer")

-- Errors name the module and the shapes; options are checked
T.raises(function() lin(mpm.randn(2, 5)) end, "Linear%(3 %-> 2%): input has shape %[2,5%], expected last dim 3")
T.raises(function() nn.Linear(3, 2, { bais = false }) end, "unknown option 'bais'")
T.raises(function() nn.TransformerLayer(8, 2)(h) end, "expected arguments %(x, offsets%) but got 1")
T.raises(function() nn.MultiheadAttention(6, 4) end, "not divisible")
T.raises(function() lin(x, "offsets") end, "must be a tensor or nil, got string")
T.raises(function() lin.weight = mpm.zeros(2, 3) end, "cannot set field 'weight'")
T.raises(function() nn.Linear(3.5, 2) end, "integer representation")
T.raises(function() nn.ModuleList({ lin })(x) end, "not callable")
T.raises(function() nn.Linear(2 ^ 40, 2 ^ 40) end, "too large")          -- never an overflow trap
T.raises(function() nn.Embedding(2 ^ 33, 2 ^ 33) end, "too large")
T.raises(function() nn.SwiGLU(4, { mult = 0 / 0 }) end, "mult must give a hidden width")

-- A Lua-defined module holding Swift modules ---------------------------------------------------
local Block = nn.Module:extend "Block"
function Block:init(dim)
  self.norm = nn.LayerNorm(dim)
  self.ff = nn.Linear(dim, dim)
  self.scale = nn.Parameter(mpm.ones(dim))
  self.layers = { nn.Linear(dim, dim), nn.Linear(dim, dim) }
  self.cache = mpm.zeros(dim)                 -- a plain tensor: neither parameter nor buffer
  self:register_buffer("count", mpm.zeros(1))
end
function Block:forward(x)
  local h = self.ff(self.norm(x)) * self.scale
  for _, l in ipairs(self.layers) do h = l(h) end
  return x + h
end

local block = Block(4)
names = {}
for name in block:named_parameters() do names[#names + 1] = name end
T.equal(table.concat(names, " "),
  "norm.weight norm.bias ff.weight ff.bias scale layers.1.weight layers.1.bias layers.2.weight layers.2.bias",
  "fields walked in assignment order, plain tables give dotted names")
local sd = block:state_dict()
T.equal(mpm.is_tensor(sd["count"]), true, "buffers are in the state dict")
T.equal(sd["cache"], nil, "plain tensors are not")
T.equal(#block:children(), 4, "children: norm, ff and the two list entries")
T.equal(tostring(Block), "module class Block", "class prints its name")
local tree = tostring(block)
assert(tree:find("^Block%(%)  %[72 params%]"), tree)
assert(tree:find("%(ff%): Linear%(in_features=4, out_features=4, bias=true%)  %[20 params%]"), tree)

-- autograd flows through Lua modules
local xin = mpm.randn(5, 4)
block(xin):sum():backward()
T.equal(mpm.is_tensor(block.ff.weight.grad), true, "Swift child got a gradient")
T.equal(mpm.is_tensor(block.scale.grad), true, "Lua parameter got a gradient")
block:zero_grad()
T.equal(block.scale.grad, nil, "zero_grad clears")

-- A Swift container holding Lua modules (through a proxy) -----------------------------------
local Scale = nn.Module:extend "Scale"
function Scale:init(v) self.v = nn.Parameter(mpm.full({ 1 }, v)) end
function Scale:forward(x, offsets_arg)
  assert(offsets_arg == nil or mpm.is_tensor(offsets_arg))
  return x * self.v
end
local seq = nn.Sequential(nn.Linear(4, 4), Block(4), Scale(2))
T.equal(seq[2]:type_name(), "Block", "the Lua module comes back as itself")
T.equal(getmetatable(seq[3]), Scale, "proxy unwrapped to the Lua table")
names = {}
for name in seq:named_parameters() do names[#names + 1] = name end
T.equal(names[#names], "3.v", "parameters of Lua children inside Swift containers")
local xs = mpm.randn(3, 4)
local out = seq(xs)
local manual = seq[3](seq[2](seq[1](xs)))
T.close(max_abs_diff(out, manual), 0, 0, "Sequential runs Lua children")
out:sum():backward()
T.equal(mpm.is_tensor(seq[3].v.grad), true, "gradient reaches a Lua parameter inside Sequential")
T.equal(mpm.is_tensor(seq[1].weight.grad), true, "and the Swift module before it")

-- a Lua error inside a Lua module called from Swift comes back unchanged
local Bad = nn.Module:extend "Bad"
function Bad:forward() error({ code = 7 }) end
local ok, err = pcall(function() return nn.Sequential(Bad())(xs) end)
T.equal(ok, false, "error propagates")
T.equal(type(err) == "table" and err.code, 7, "the very error value")
local Wrong = nn.Module:extend "Wrong"
function Wrong:forward() return 42 end
T.raises(function() nn.Sequential(Wrong())(xs) end, "Wrong: forward returned number, expected a tensor")

-- ModuleList: index, length, append, iteration
local ml = nn.ModuleList({ nn.Linear(2, 2) })
ml:append(Scale(3))
T.equal(#ml, 2, "#ModuleList")
local count = 0
for _, m in ipairs(ml) do count = count + 1 end
T.equal(count, 2, "ipairs over a ModuleList")

-- state dicts: round trip reproduces outputs; strict errors list every problem ----------------
local a, b = Block(4), Block(4)
local xa = mpm.randn(6, 4)
assert(max_abs_diff(a(xa), b(xa)) > 0)
b:load_state_dict(a:state_dict())
T.equal(max_abs_diff(a(xa), b(xa)), 0, "loaded module reproduces outputs bit for bit")
local bad = a:state_dict()
bad["ff.weight"] = mpm.zeros(4, 5)
bad["ff.bias"] = nil
bad["extra"] = mpm.zeros(1)
local msg = T.raises(function() b:load_state_dict(bad) end, "does not fit Block")
assert(msg:find("missing keys: ff.bias"), msg)
assert(msg:find("unexpected keys: extra"), msg)
assert(msg:find("mis%-shaped keys: ff.weight %(expected float32 %[4,4%], got float32 %[4,5%]%)"), msg)
bad["ff.weight"] = nil
local report = b:load_state_dict(bad, { strict = false })
T.equal(report.missing[1], "ff.bias", "non-strict reports missing")
T.equal(report.unexpected[1], "extra", "non-strict reports unexpected")
T.raises(function() b:load_state_dict(bad, { strcit = true }) end, "unknown option 'strcit'")
-- The message is the Swift Module's own (one implementation): a Swift Linear and a Lua Block
-- word it alike, and a value that is not a tensor is named.
local lin_msg = T.raises(function() nn.Linear(4, 4):load_state_dict({ weight = "w" }) end, "does not fit Linear")
assert(lin_msg:find("missing keys: bias; mis%-shaped keys: weight %(expected a tensor, got string%)"), lin_msg)
local sd = a:state_dict()
sd["ff.bias"] = "zero"
msg = T.raises(function() b:load_state_dict(sd) end, "mis%-shaped keys: ff.bias %(expected a tensor, got string%)")

-- train/eval propagate through Swift and Lua modules
local Drop = nn.Module:extend "Drop"
function Drop:init() self.inner = nn.Sequential(nn.Dropout(0.5), Scale(1)) end
function Drop:forward(x) return self.inner(x) end
local d = Drop()
d:eval()
T.equal(d.training, false, "Lua module in eval")
T.equal(d.inner[1].training, false, "Swift grandchild in eval")
T.equal(d.inner[2].training, false, "Lua module inside a Swift container in eval")
local ones = mpm.ones(1000)
T.equal(d(ones):sum():item(), 1000, "dropout off in eval")
d:train()
T.equal(d.inner[1].training, true, "train propagates")
assert(d(ones):sum():item() ~= 1000, "dropout on in train")

-- freezing
block:requires_grad_(false)
T.equal(block.ff.weight.requires_grad, false, "frozen Swift parameter")
T.equal(#block:parameters(), 9, "frozen parameters are still parameters")
block:requires_grad_(true)
