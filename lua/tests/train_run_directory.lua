-- The run directory: a fresh run never replaces a run silently; a second process cannot write
-- a directory in use (and a dead one's lock is taken over); temporaries of dead processes are
-- removed; a finished run resumed writes only what it lacks; files that are not regular files
-- and bad checkpoint fields are named in one line instead of hanging or crashing.
local T = require "mpm.testing"
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
local bin = os.getenv("MPMLUA_BIN") or (root .. "/.build/release/mpmlua")
local files = mpm.files
local base = os.tmpname()
os.remove(base)

local function job(out, extra)
  local o = { task = "reg", preset = "tiny", steps = 6, out = out, batch_size = 16, quiet = true, warmup = 1,
    half_life = 3, log_every = 1, val = "none", checkpoint_every = 3, data = root .. "/data/jetclass_train.h5",
    max_jets = 96 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return mpm.pretrain.run(o)
end

local function lines_of(path)
  local n = 0
  for _ in io.lines(path) do n = n + 1 end
  return n
end

-- A fresh run over a finished one is refused; --overwrite replaces it.
local out = base .. "_a"
local first = job(out)
T.equal(lines_of(out .. "/metrics.csv"), 7, "header and six rows")
T.raises(function() job(out) end, "already holds a run %(checkpoint.h5%); continue it with resume")
local replaced = job(out, { overwrite = true, seed = 2 })
T.equal(replaced.first_loss ~= first.first_loss, true, "overwrite runs again")

-- Resuming a finished run writes the missing backbone and plot, and reports its losses.
os.remove(out .. "/backbone.h5")
local again = job(out, { resume = true, seed = 2 })
T.equal(again.finished, true, "the run was already finished")
T.equal(files.exists(out .. "/backbone.h5"), true, "the missing backbone is written")
T.equal(math.type(again.step), "integer", "its step")
T.close(again.last_loss, replaced.last_loss, 1e-6, "its last loss, from the metrics")
T.equal(lines_of(out .. "/metrics.csv"), 7, "the metrics keep every row")
T.equal(job(out, { resume = true, seed = 2 }).finished, true, "nothing to do the second time")

-- The example script prints its summary for a finished run too (no nil in a format), and
-- names the task of a run it cannot resume.
local cfm = base .. "_cfm"
local function train_cfm(...)
  arg = { [0] = root .. "/examples/train_cfm.lua", "--preset", "tiny", "--steps", "4", "--batch-size", "16",
    "--max-jets", "64", "--quiet", "--data", root .. "/data/jetclass_train.h5", "--val", "none", ... }
  dofile(root .. "/examples/train_cfm.lua")
end
train_cfm("--out", cfm)
train_cfm("--out", cfm, "--resume")
T.raises(function() train_cfm("--out", out, "--resume") end, "holds a 'reg' run, not 'cfm' %(resume it with %-%-task reg%)")

-- A resumed run keeps the rows before its checkpoint and rewrites the file atomically.
local half = base .. "_b"
job(half, { steps = 3 })
job(half, { steps = 6, resume = true })
T.equal(lines_of(half .. "/metrics.csv"), 7, "rows 1-3 kept, 4-6 added")

-- Killed at any moment of a resume (while it rewrites the metrics, say), the run keeps every
-- row up to its checkpoint, and a later resume completes it.
local killed = base .. "_k"
job(killed, { steps = 3 })
local script = ("mpm.pretrain.run{task='reg', preset='tiny', steps=400, out=%q, batch_size=16, quiet=true, warmup=1, half_life=3, log_every=1, val='none', checkpoint_every=200, data=%q, max_jets=96, resume=true}"):format(
  killed, root .. "/data/jetclass_train.h5")
for i, delay in ipairs { 0.05, 0.15, 0.3, 0.45, 0.6 } do
  os.execute(("%s -e %s >/dev/null 2>&1 & p=$!; sleep %g; kill -9 $p; wait $p 2>/dev/null"):format(bin, files.quote(script), delay))
  T.equal(lines_of(killed .. "/metrics.csv") >= 4, true, "kill " .. i .. ": the rows before the checkpoint are kept")
end
job(killed, { steps = 6, resume = true })
T.equal(lines_of(killed .. "/metrics.csv"), 7, "the resumed run completes its metrics")

-- Another process holding the directory: a clear error naming it; once it is gone, its stale
-- lock is taken over.
local busy = base .. "_c"
files.mkdir(busy)
os.execute(("%s -e 'local t = mpm.files.lock(%q); io.open(%q, \"w\"):close(); os.execute(\"sleep 30\")' >/dev/null 2>&1 & echo $! > %s"):format(
  bin, busy, busy .. "/.held", busy .. "/.pid"))
for _ = 1, 100 do
  if files.exists(busy .. "/.held") then break end
  os.execute("sleep 0.1")
end
local pid = io.open(busy .. "/.pid"):read("l")
T.raises(function() job(busy) end, "another run is writing here %(process %d+ on ")
os.execute("kill -9 " .. pid .. "; sleep 0.3")
-- A temporary left by a dead process goes; the run then takes the directory.
local dead = busy .. "/.checkpoint.h5.tmp-" .. pid .. "-12345"
io.open(dead, "w"):close()
job(busy)
T.equal(files.kind(dead), nil, "the dead process's temporary was removed")
T.equal(files.exists(busy .. "/backbone.h5"), true, "the run finished after taking over the lock")

-- Not regular files are named, never opened (a FIFO would hang), and bad fields are refused.
os.execute("mkfifo " .. files.quote(base .. "_fifo"))
T.raises(function() files.exists(base .. "_fifo") end, "_fifo: not a regular file %(a fifo%)")
local odd = base .. "_d"
job(odd, { steps = 3 })
os.remove(odd .. "/checkpoint.h5")
os.execute("mkfifo " .. files.quote(odd .. "/checkpoint.h5"))
T.raises(function() job(odd, { resume = true }) end, "checkpoint.h5: not a regular file %(a fifo%)")
os.remove(odd .. "/checkpoint.h5")
job(odd, { steps = 3, overwrite = true })
local ck = mpm.load(odd .. "/checkpoint.h5")
ck.step = "twenty"
mpm.save(odd .. "/checkpoint.h5", ck)
T.raises(function() job(odd, { resume = true }) end, "has an invalid step %(twenty%)")
ck.step = -5
mpm.save(odd .. "/checkpoint.h5", ck)
T.raises(function() job(odd, { resume = true }) end, "has an invalid step %(%-5%)")
job(odd, { steps = 3, overwrite = true })
os.remove(odd .. "/metrics.csv")
files.mkdir(odd .. "/metrics.csv")
T.raises(function() job(odd, { steps = 6, resume = true }) end, "metrics.csv: not a regular file %(a directory%)")

-- Path parts, as the run directories and the backbone's preprocessing use them.
for path, dir in pairs { ["runs/cfm/backbone.h5"] = "runs/cfm", ["backbone.h5"] = ".", ["/backbone.h5"] = "/", ["runs/"] = "runs" } do
  T.equal(files.dirname(path), dir, "dirname " .. path)
end
T.equal(files.basename("runs/cfm/preprocessing.h5"), "preprocessing.h5", "basename")
T.equal(files.basename("preprocessing.h5"), "preprocessing.h5", "basename without a directory")

os.execute("rm -rf " .. files.quote(base) .. "_*")
