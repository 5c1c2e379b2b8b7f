-- Checkpoints: mpm.save / mpm.load round trips, bit-for-bit model outputs, h5py reads the file
-- with the expected names and shapes, clear errors for foreign and corrupt files, atomic writes,
-- and a run saved at step k then resumed reproduces the uninterrupted losses exactly.
local T = require "mpm.testing"
local nn, optim = mpm.nn, mpm.optim

local base = os.tmpname()
os.remove(base)
local function tmp(name) return base .. "_" .. name end
local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- Round trip of nested values, types preserved ------------------------------------------------
local value = {
  step = 1234, lr = 1e-3, whole_float = 3.0, name = "cfm run", done = false, flag = true,
  list = { 1, 2, 3 }, floats = { 0.5, 2, -1.25 }, empty = {},
  nested = { [1] = "one", [2] = { x = mpm.tensor({ 1, 2 }, { dtype = "int64" }) }, ["a.b"] = mpm.ones(2, 3) },
  mask = mpm.tensor({ true, false, true }),
  scalar = mpm.tensor(2.5),
  rng = mpm.default_generator():get_state(),
}
local p = tmp("values.h5")
mpm.save(p, value)
local back = mpm.load(p)
T.equal(back.step, 1234, "integer")
T.equal(math.type(back.step), "integer", "stays an integer")
T.equal(math.type(back.whole_float), "float", "3.0 stays a float")
T.equal(back.lr, 1e-3, "float")
T.equal(back.name, "cfm run", "string")
T.equal(back.done, false, "false")
T.equal(back.flag, true, "true")
T.equal(table.concat(back.list, ","), "1,2,3", "integer list")
T.equal(math.type(back.list[1]), "integer", "list of integers")
T.equal(back.floats[3], -1.25, "float list")
T.equal(next(back.empty), nil, "empty table")
T.equal(back.nested[1], "one", "integer key")
T.equal(table.concat(back.nested[2].x:tolist(), ","), "1,2", "int64 tensor under an integer key")
T.equal(back.nested[2].x:dtype(), "int64", "int64 kept")
T.equal(table.concat(back.nested["a.b"]:shape(), ","), "2,3", "dotted key")
T.equal(back.mask:dtype(), "bool", "bool tensor")
T.equal(tostring(back.mask:tolist()[2]), "false", "bool values")
T.equal(back.scalar:dim(), 0, "0-d tensor")
T.equal(back.scalar:item(), 2.5, "0-d value")
for i = 1, 4 do T.equal(back.rng[i], value.rng[i], "generator state word " .. i) end
T.equal(mpm.load((function() local q = tmp("t.h5"); mpm.save(q, mpm.arange(4)); return q end)()):sum():item(), 6,
  "a bare tensor round-trips")

-- What cannot be saved is refused before any file exists --------------------------------------
local bad = tmp("bad.h5")
T.raises(function() mpm.save(bad, { f = print }) end, "f is a function")
T.raises(function() mpm.save(bad, { m = nn.Linear(2, 2) }) end, "save a module's state_dict")
local cyc = {}
cyc.self = cyc
T.raises(function() mpm.save(bad, cyc) end, "cycle")
T.raises(function() mpm.save(bad, { ["a/b"] = 1 }) end, "cannot be an HDF5 name")
T.raises(function() mpm.save(bad, { [1] = 1, ["1"] = 2 }) end, "share one HDF5 name")
T.raises(function() mpm.save(bad, { [true] = 1 }) end, "keys must be strings or integers")
T.equal(exists(bad), false, "no file after a refused save")
-- a failing save leaves an existing file untouched
mpm.save(bad, { ok = 1 })
T.raises(function() mpm.save(bad, { ok = 2, f = print }) end, "function")
T.equal(mpm.load(bad).ok, 1, "the previous file is intact")

-- Foreign, corrupt and missing files fail clearly -------------------------------------------
T.raises(function() mpm.load(tmp("missing.h5")) end, "no such file")
local text = tmp("text.h5")
local f = assert(io.open(text, "wb")); f:write("not hdf5 at all"); f:close()
T.raises(function() mpm.load(text) end, "not an HDF5 file")
-- any HDF5 file without the checkpoint marker: one written by h5py, else the bundled data
local foreign = tmp("foreign.h5")
os.execute("python3 -c 'import h5py; h5py.File(\"" .. foreign .. "\", \"w\").create_dataset(\"x\", data=[1, 2])' 2>/dev/null")
if not exists(foreign) then foreign = "data/jetclass_test.h5" end
if exists(foreign) then T.raises(function() mpm.load(foreign) end, "not an mpmlua checkpoint") end
local whole = assert(io.open(p, "rb")):read("a")
local cut = tmp("cut.h5")
f = assert(io.open(cut, "wb")); f:write(whole:sub(1, #whole // 2)); f:close()
local msg = T.raises(function() mpm.load(cut) end, "mpm.load")
assert(msg:find("truncated") or msg:find("corrupt"), msg)

-- A model saved and loaded reproduces its outputs bit for bit -------------------------------
mpm.manual_seed(3)
local Head = nn.Module:extend "Head"
function Head:init()
  self.enc = nn.TransformerEncoder(8, 2, 2, { registers = 2, layerscale_init = 1e-3 })
  self.out = nn.Linear(8, 3)
  self.temperature = nn.Parameter(mpm.ones(1))
end
function Head:forward(x, o) return self.out(self.enc(x, o)) * self.temperature end
local model = Head()
local x = mpm.randn(7, 8)
local o = mpm.tensor({ 0, 1, 5, 7 }, { dtype = "int64" })
local mp = tmp("model.h5")
mpm.save(mp, { model = model:state_dict(), step = 10 })
local other = Head()
other:load_state_dict(mpm.load(mp).model)
T.equal((model(x, o) - other(x, o)):abs():max():item(), 0, "outputs bit for bit")
local eq = (model(x, o):eq(other(x, o))):all():item()
T.equal(eq, true, "every element equal")

-- h5py reads the file with the expected names and shapes ------------------------------------
local function shell(cmd)
  local h = io.popen(cmd .. " 2>&1")
  local out = h:read("a")
  local ok = h:close()
  return ok, out
end
local have_h5py = shell("python3 -c 'import h5py'")
if not have_h5py then have_h5py = shell("python3 -m pip install --quiet h5py") and shell("python3 -c 'import h5py'") end
local listing
if have_h5py then
  local script = [[
import sys, h5py
f = h5py.File(sys.argv[1], "r")
print("format", f.attrs["mpmlua_format"], "step", f.attrs["step"])
def show(name, obj):
    if isinstance(obj, h5py.Dataset):
        print(name, obj.dtype, "x".join(map(str, obj.shape)))
f.visititems(show)
]]
  local py = tmp("show.py")
  f = assert(io.open(py, "w")); f:write(script); f:close()
  local ok
  ok, listing = shell("python3 " .. py .. " " .. mp)
  assert(ok, listing)
  assert(listing:find("format mpmlua.checkpoint step 10", 1, true), listing)
  assert(listing:find("model/enc.layers.1.attn.qkv.weight float32 24x8", 1, true), listing)
  assert(listing:find("model/enc.registers float32 2x8", 1, true), listing)
  assert(listing:find("model/temperature float32 1", 1, true), listing)
  assert(listing:find("model/out.bias float32 3", 1, true), listing)
  print("h5py reads the checkpoint: " .. select(2, listing:gsub("\n", "")) .. " lines")
  os.remove(py)
else
  local ok
  ok, listing = shell("h5ls -r " .. mp)
  assert(ok, "neither h5py nor h5ls is available: " .. listing)
  assert(listing:find("/model/enc.layers.1.attn.qkv.weight Dataset {24, 8}", 1, true), listing)
end

-- A run saved at step k and resumed reproduces the uninterrupted losses exactly --------------
-- Everything that carries state is saved: model, optimiser, schedule, EMA and the generator
-- (the data and the dropout masks are drawn from it).
local function make()
  local net = nn.Sequential(nn.Linear(4, 16), nn.SiLU(), nn.Dropout(0.2), nn.Linear(16, 1))
  local opt = optim.AdamW(net, { lr = 1e-2, weight_decay = 1e-5 })
  local sched = optim.lr_scheduler.WarmupExpDecay(opt, { warmup = 3, half_life = 5, floor = 0.01 })
  local ema = optim.EMA(net, { decay = 0.9 })
  return { net = net, opt = opt, sched = sched, ema = ema }
end
local function train(run, steps)
  local losses = {}
  for i = 1, steps do
    local xb = mpm.randn(32, 4)
    local yb = (xb:narrow(2, 1, 1) * 2):sin() + xb:narrow(2, 2, 1) ^ 2
    run.opt:zero_grad()
    local loss = ((run.net(xb) - yb) ^ 2):mean()
    loss:backward()
    nn.utils.clip_grad_norm_(run.net, 1.0)
    run.opt:step()
    run.sched:step()
    run.ema:update()
    losses[i] = loss:item()
  end
  return losses
end
local function checkpoint(run)
  return {
    model = run.net:state_dict(), optim = run.opt:state_dict(), sched = run.sched:state_dict(),
    ema = run.ema:state_dict(), rng = mpm.default_generator():get_state(),
  }
end

mpm.manual_seed(42)
local straight = make()
local expected = train(straight, 12)

mpm.manual_seed(42)
local first = make()
local head = train(first, 5)
local ck = tmp("resume.h5")
mpm.save(ck, checkpoint(first))
train(first, 3)                      -- the process goes on, touching the RNG, then "crashes"

mpm.manual_seed(999)                 -- a fresh start with different random weights
local resumed = make()
local saved = mpm.load(ck)
resumed.net:load_state_dict(saved.model)
resumed.opt:load_state_dict(saved.optim)
resumed.sched:load_state_dict(saved.sched)
resumed.ema:load_state_dict(saved.ema)
mpm.default_generator():set_state(saved.rng)
local tail = train(resumed, 7)
for i = 1, 5 do T.equal(head[i], expected[i], "step " .. i .. " before the checkpoint") end
for i = 1, 7 do T.equal(tail[i], expected[5 + i], "step " .. (5 + i) .. " after resuming") end
T.equal((resumed.ema.shadow[1] - straight.ema.shadow[1]):abs():max():item(), 0, "EMA identical")

for _, name in ipairs({ "values.h5", "t.h5", "bad.h5", "text.h5", "cut.h5", "model.h5", "resume.h5", "foreign.h5" }) do
  os.remove(tmp(name))
end
