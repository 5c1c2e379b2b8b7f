-- The task protocol from Lua: every built-in task and the Lua-only energy-score task on a
-- tiny model (finite, differentiable losses; gradients against finite differences; samples
-- of the right shape), the DroppedSet target (1-based codes), the kernels (kmeans, ode,
-- rq_spline) and clear errors for bad options.
local T = require "mpm.testing"
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
mpm.manual_seed(3)

local ds = mpm.data.open(root .. "/data/jetclass_train.h5")
local pre = ds:fit_preprocessing { jets = 300, quantiles = 100 }
local loader = ds:loader { batch_size = 12, shuffle = false, seed = 5, preprocessing = pre, mask = 0.4, max_jets = 48 }
local batch
for b in loader:iter() do batch = b; break end

local model = mpm.MPM { preset = "tiny" }
T.equal(model.config.encoder_dim, 32, "tiny preset encoder width")
local out = model(batch)
local target = out.target
T.equal(out.decoded:size(1), target.count, "one decoder row per dropped particle")
T.equal(out.decoded:size(2), 16, "decoder width")
T.equal(target.batch_size, 12, "jets in the target")
T.equal(target.types:min():item() >= 1 and target.types:max():item() <= 8, true, "types count from 1")
T.equal(target.ranks:min():item(), 1, "ranks count from 1")
-- rows point at the dropped particles of the whole jets
T.close((target.jet_features:index_select(1, target.rows) - target.features):abs():max():item(), 0, 1e-7, "rows")
T.equal(tostring(target):match("^DroppedSet%(") ~= nil, true, "DroppedSet prints")

-- Every task: a finite loss with gradients into the model, and samples where it can.
local all = mpm.kmeans.fit(pre:transform(ds:read(1, 40), 1).features, { k = 32, seed = 1 })
local tok = mpm.tasks.VQTokenizer { dim = 16, depth = 1, heads = 2, codebook_size = 16, code_dim = 8 }
tok:init_codebook(batch, 1)
local energy = dofile(root .. "/examples/tasks/energy_score.lua")(model)
local tasks = {
  mpm.tasks.make("id", model), mpm.tasks.make("reg", model), mpm.tasks.make("kmeans", model, { centroids = all }),
  mpm.tasks.make("vqvae", model, { tokenizer = tok.core }), mpm.tasks.make("flow", model, { couplings = 2, width = 16 }),
  mpm.tasks.make("cfm", model, { hidden = 32, depth = 2 }), mpm.tasks.make("ssfm", model, { dim = 16, depth = 1, heads = 2 }),
  energy,
}
local expected_weight = { id = 0.3 }
for _, task in ipairs(tasks) do
  model:zero_grad()
  local o = model(batch)
  local input = task.input == "encoded" and o.encoded or o.decoded
  local loss = task:loss(input, o.target)
  local v = loss:item()
  T.equal(v == v and math.abs(v) < 1e6, true, task.name .. ": finite loss")
  T.equal(task.weight, expected_weight[task.name] or 1, task.name .. ": weight")
  loss:backward()
  -- The flow starts as the identity (zero last layers), so at step 0 no gradient flows back to
  -- its context; its last layers get one.
  local g = task.name == "flow" and task.core.couplings[1].final.weight.grad or model:backbone().feature_embedding.weight.grad
  T.equal(g ~= nil and g:abs():sum():item() > 0, true, task.name .. ": gradient reaches the encoder")
  if task.sample then
    local s = task:sample(input, o.target, { steps = 3 })
    if s.features then T.equal(s.features:size(1), o.target.count, task.name .. ": sampled rows") end
    if s.types then T.equal(s.types:min():item() >= 1, true, task.name .. ": sampled types count from 1") end
  end
end
T.raises(function() tasks[4]:sample(out.decoded, target) end, "attempt to call a nil value")

-- Finite differences through the Lua protocol: d loss / d decoded for a built-in and the Lua task.
local function gradcheck(task, n)
  local x = out.decoded:detach():clone()
  local values = x:reshape(-1):tolist()
  local function loss_at(vals)
    mpm.manual_seed(99)
    local t = mpm.tensor(vals):reshape(x:size(1), x:size(2))
    return task:loss(t, target)
  end
  mpm.manual_seed(99)
  local leaf = mpm.tensor(values):reshape(x:size(1), x:size(2)):requires_grad_(true)
  task:loss(leaf, target):backward()
  local grad = leaf.grad:reshape(-1):tolist()
  for probe = 1, n do
    local i = 1 + ((probe * 37) % #values)
    local eps = 1e-2
    local up, down = { table.unpack(values) }, { table.unpack(values) }
    up[i] = values[i] + eps
    down[i] = values[i] - eps
    local numeric = (mpm.no_grad(function() return loss_at(up):item() end) - mpm.no_grad(function() return loss_at(down):item() end)) / (2 * eps)
    T.close(grad[i], numeric, 5e-2, task.name .. (": d loss / d decoded[%d]"):format(i))
  end
end
gradcheck(tasks[6], 6)     -- cfm
gradcheck(energy, 6)       -- Lua task

-- Kernels from Lua.
local x = mpm.cat({ mpm.randn(50, 2) * 0.1 + 5, mpm.randn(50, 2) * 0.1 - 5 }, 1)
local c, info = mpm.kmeans.fit(x, { k = 2, seed = 1 })
T.equal(c:size(1), 2, "kmeans centroids")
T.equal(info.iterations >= 1, true, "kmeans info")
local codes, d2 = mpm.kmeans.assign(x, c)
T.equal(codes:min():item() >= 1 and codes:max():item() <= 2, true, "kmeans codes count from 1")
T.equal(codes[1]:item() ~= codes[100]:item(), true, "the two blobs get different codes")
T.close(d2:max():item(), 0, 0.2, "points sit near their centroid")
local x1 = mpm.ones(3)
local x0 = mpm.ode.integrate(x1, function(s, t) return s end, { steps = 100, method = "midpoint" })
T.close(x0[1]:item(), math.exp(-1), 1e-4, "ode: dx/dt = x from 1 to 0")
T.raises(function() mpm.ode.integrate(x1, function() return 1 end) end, "f must return a tensor")
T.raises(function() mpm.ode.integrate(x1, function() error("boom") end) end, "boom")
local p = mpm.randn(5, 23)
local y, logdet = mpm.rq_spline(mpm.linspace(-3, 3, 5), p)
local back, ld2 = mpm.rq_spline(y, p, { inverse = true })
T.close((back - mpm.linspace(-3, 3, 5)):abs():max():item(), 0, 1e-4, "rq_spline inverse")
T.close((ld2 + logdet):abs():max():item(), 0, 1e-4, "rq_spline log-determinants")
local t = mpm.ode.logit_normal(1000)
T.equal(t:min():item() > 0 and t:max():item() < 1, true, "logit-normal times in (0, 1)")

-- Errors say what is wrong.
T.raises(function() mpm.MPM { preset = "huge" } end, "unknown preset 'huge'")
T.raises(function() mpm.MPM { encoder_dims = 3 } end, "unknown option 'encoder_dims'")
T.raises(function() mpm.MPM { encoder_dim = 30, encoder_heads = 4 } end, "divisible")
T.raises(function() mpm.tasks.make("kmean", model) end, "unknown task 'kmean'")
T.raises(function() mpm.tasks.make("kmeans", model) end, "option 'centroids' is required")
T.raises(function() mpm.tasks.make("cfm", model, { hiden = 3 }) end, "unknown option 'hiden'")
T.raises(function() tasks[1]:loss(out.decoded:narrow(1, 1, 2), target) end, "decoded has 2 rows")
T.raises(function() model(ds:read(1, 2)) end, "the batch has no mask")
T.raises(function() mpm.kmeans.fit(x, { k = 500 }) end, "need at least 500 rows")
T.raises(function() mpm.tasks.Task():loss() end, "loss is not defined")

-- The classes, their docs and the presets come from the Swift catalogue (TaskCatalogue.swift,
-- MPMPreset.swift).
T.equal(mpm.tasks.names(), "id, reg, kmeans, vqvae, flow, cfm, ssfm", "catalogue order")
T.equal(mpm.tasks.catalogue_entry("id").weight, 0.3, "ID weight from the catalogue")
T.equal(mpm.tasks.make("id", model).weight, 0.3, "an ID task carries it")
T.equal(mpm.tasks.make("ssfm", model, { dim = 16, depth = 1, heads = 2 }).input, "encoded", "SSFM reads the encoder")
T.equal(mpm.tasks.VQVAE.sample, nil, "VQ-VAE cannot sample")
T.equal(mpm.tasks.CFM.__doc:find("hidden=128", 1, true) ~= nil, true, "docs state the defaults")
T.equal(mpm.tasks.KMeans.__doc:find("centroids= (required", 1, true) ~= nil, true, "docs name required options")
local small = mpm.tasks.preset("small")
T.equal(small.model.encoder_dim, 128, "small model")
T.equal(small.kmeans_k, 512, "small K-means K")
T.equal(small.ssfm.dim, 64, "small SSFM width")
T.equal(small.tokenizer.dim, 64, "small tokenizer width")
T.equal(mpm.tasks.preset("paper").kmeans_k, 16384, "paper K-means K")
local none, why = mpm.tasks.preset("huge")
T.equal(none, nil, "unknown preset")
T.equal(why, "unknown preset 'huge' (expected one of: paper, small, tiny)", "the message names the presets")
