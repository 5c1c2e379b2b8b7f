-- Gradients through Lua-defined modules, in both nestings (a Lua module holding Swift modules,
-- a Swift Sequential holding a Lua module), on packed sets of mixed lengths with a set of
-- length 1, checked against central finite differences.
local T = require "mpm.testing"
local nn = mpm.nn
mpm.manual_seed(17)

local offsets = mpm.tensor({ 0, 3, 4, 9 }, { dtype = "int64" })  -- lengths 3, 1, 5

local Block = nn.Module:extend "Block"
function Block:init(dim)
  self.attn = nn.TransformerLayer(dim, 2, { layerscale_init = 0.5 })
  self.gate = nn.Parameter(mpm.randn(dim) * 0.5)
end
function Block:forward(x, o) return self.attn(x, o) * self.gate:sigmoid() end

local function flat(t)
  local out = {}
  local function walk(v) if type(v) == "table" then for _, w in ipairs(v) do walk(w) end else out[#out + 1] = v end end
  walk(t:tolist())
  return out
end

-- d(sum(w * f()))/d(t) at a few elements of t, numerically, in Lua doubles.
local function check(name, f, tensors)
  local y = f()
  local weights = {}
  for i = 1, y:numel() do weights[i] = ((i * 7919) % 13) / 13 - 0.4 end
  local w = mpm.tensor(weights):reshape(y:shape())
  for _, t in ipairs(tensors) do t.grad = nil end
  ;(y * w):sum():backward()
  local function value()
    local v = flat(mpm.no_grad(f))
    local s = 0
    for i, x in ipairs(v) do s = s + x * weights[i] end
    return s
  end
  local eps = 1e-3
  for k, t in ipairs(tensors) do
    local analytic = flat(t.grad)
    local view = t:reshape(-1)
    local stride = math.max(1, t:numel() // 6)
    for i = 1, t:numel(), stride do
      local orig = view[i]:item()
      mpm.no_grad(function() view[i] = orig + eps end)
      local up = value()
      mpm.no_grad(function() view[i] = orig - eps end)
      local down = value()
      mpm.no_grad(function() view[i] = orig end)
      local numeric = (up - down) / (2 * eps)
      local diff = math.abs(analytic[i] - numeric)
      assert(diff <= 1e-2 * math.max(1, math.abs(numeric)),
        ("%s: tensor %d element %d: analytic %g vs numeric %g"):format(name, k, i, analytic[i], numeric))
    end
  end
end

local x = mpm.randn(9, 8, { requires_grad = true })
local block = Block(8)
local params = block:parameters()
table.insert(params, 1, x)
check("Lua module holding Swift modules", function() return block(x, offsets) end, params)

local seq = nn.Sequential(nn.Linear(8, 8), Block(8), nn.LayerNorm(8))
local sparams = seq:parameters()
T.equal(#sparams, 4 + #block:parameters(), "Sequential sees the Lua child's parameters")
table.insert(sparams, 1, x)
check("Swift Sequential holding a Lua module", function() return seq(x, offsets) end, sparams)
