-- Fault: 4 KB of garbage in the middle of a saved file's data (docs/reliability.md,
-- "Checksums"). Before: checkpoints were stored without checksums and read back wrong numbers
-- silently. Now every chunked dataset carries a fletcher32 checksum and a damaged one is one
-- clear error naming the file. h5py (when installed) reads the same files and sees the damage.
-- usage: mpmlua tools/faults/corrupt_file.lua [--short]
local T = require "mpm.testing"
local path = os.tmpname()

local w = mpm.randn(256, 256)
mpm.save(path, { model = { ["encoder.0.weight"] = w }, step = 3 })
T.equal(mpm.load(path).model["encoder.0.weight"]:eq(w):all():item(), true, "a clean file loads")

-- Find row 100 of the weights in the file by its bytes and overwrite 4 KB from there.
local f = assert(io.open(path, "rb"))
local bytes = f:read("a")
f:close()
local row = w[101]:tolist()
local needle = string.pack("<ffff", row[1], row[2], row[3], row[4])
local at = bytes:find(needle, 1, true)
T.equal(at ~= nil, true, "the weights are stored uncompressed in the file")
local garbage = {}
for i = 1, 4096 do garbage[i] = string.char((i * 31 + 7) % 256) end
f = assert(io.open(path, "r+b"))
f:seek("set", at - 1)
f:write(table.concat(garbage))
f:close()

local ok, err = pcall(mpm.load, path)
T.equal(ok, false, "a damaged file is refused")
T.equal(err, "mpm.load: " .. path .. ": cannot read dataset 'model/encoder.0.weight', the data is corrupt " ..
  "(its checksum does not match)", "the error")

-- h5py as an oracle: it reads our checksummed files and detects the same damage.
local function sh(cmd)
  local h = io.popen(cmd .. " 2>&1")
  local out = h:read("a")
  return h:close(), out
end
if sh("python3 -c 'import h5py'") then
  local clean = os.tmpname()
  mpm.save(clean, { model = { ["encoder.0.weight"] = w } })
  local script = [[
import sys, h5py, numpy
with h5py.File(sys.argv[1], "r") as f:
    d = f["model/encoder.0.weight"]
    print("fletcher32", d.fletcher32, "sum", float(numpy.asarray(d).sum()))
try:
    with h5py.File(sys.argv[2], "r") as f:
        f["model/encoder.0.weight"][()]
    print("damage not seen")
except OSError:
    print("damage seen")
]]
  local sf = os.tmpname()
  local s = assert(io.open(sf, "w")); s:write(script); s:close()
  local _, out = sh("python3 " .. sf .. " " .. clean .. " " .. path)
  local flag, sum = out:match("fletcher32 (%a+) sum (%S+)")
  T.equal(flag, "True", "h5py sees the checksum filter: " .. out)
  T.close(tonumber(sum), w:sum():item(), 1e-3, "h5py reads the values")
  T.equal(out:match("damage %a+ ?%a*"), "damage seen", "h5py detects the damage too")
  os.remove(sf); os.remove(clean)
end
os.remove(path)
print("corrupt_file: ok")
