-- ONNX export sizes and inference speed: for each preset a random backbone and a 10-class
-- class-attention head are exported (mpm.onnx.export), and the same jets go through mpmlua
-- (packed sets, no gradients) and through ONNX Runtime (bench/onnx_ort.py: padded to the
-- batch's longest jet, as the exported graph takes them) on the same threads.
--   mpmlua bench/onnx.lua [--jets 256] [--calls 5] [--presets small,paper] [--threads 2] [--out DIR]
-- Prints, per preset: the file sizes, and jets/s of the embedding (backbone) and of the
-- classifier on each side, from the fastest of --calls timed calls after one warm-up.
local o = mpm.cli.options(arg, {
  { "jets", 256, "integer", "jets per call (the first N of data/jetclass_test.h5)" },
  { "calls", 5, "integer", "timed calls per case (the fastest is kept)" },
  { "presets", "small,paper", "string", "comma-separated presets" },
  { "threads", 2, "integer", "ONNX Runtime's intra-op threads (mpmlua uses the cores it may run on)" },
  { "out", false, "string", "folder for the exported files (default: a temporary one)" },
}, "mpmlua bench/onnx.lua [options]")
if o == nil then return end
local files = mpm.files
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/bench/[^/]*$") or "."
local dir = o.out or os.tmpname()
if not o.out then os.remove(dir) end
files.mkdir(dir)

local pre = mpm.data.preprocessing { fit_on = files.join(root, "data/jetclass_train.h5"), jets = 500 }
local batch = mpm.data.open(files.join(root, "data/jetclass_test.h5")):loader { batch_size = o.jets, max_jets = o.jets,
  preprocessing = pre, seed = 1 }:iter()()
local padded = batch:padded()
local jets_file = files.join(dir, "jets.h5")
mpm.save(jets_file, { features = padded.features, types = padded.types - 1, mask = padded.mask })
local counts = batch.offsets[{ { 2, -1 } }] - batch.offsets[{ { 1, -2 } }]
print(("%d jets of %d..%d particles (mean %.1f), padded to %d; mpmlua kernel threads %d, ONNX Runtime threads %d"):format(
  o.jets, counts:min():item(), counts:max():item(), counts:float():mean():item(), padded.mask:size(2),
  mpm.config().kernel_threads, o.threads))

local function fastest(f)
  f()
  local best = math.huge
  for _ = 1, o.calls do
    local t0 = mpm.clock()
    f()
    best = math.min(best, mpm.clock() - t0)
  end
  return best
end

local function size(path)
  local f = assert(io.open(path, "rb"))
  local n = f:seek("end")
  f:close()
  return n
end

for preset in o.presets:gmatch("[^,]+") do
  local bb, spec = mpm.backbone.from_spec("random", { preset = preset })
  local head = mpm.nn.ClassAttentionClassifier(spec.dim, 10)
  bb:eval()
  head:eval()
  local bb_path, cls_path = files.join(dir, preset .. "_backbone.onnx"), files.join(dir, preset .. "_classifier.onnx")
  mpm.onnx.export(bb, bb_path, { overwrite = true })
  mpm.onnx.export({ backbone = bb, head = head }, cls_path, { overwrite = true })
  local embed = fastest(function() mpm.no_grad(function() return bb(batch) end) end)
  local classify = fastest(function() mpm.no_grad(function() return head(select(2, bb(batch))) end) end)
  local ort = {}
  local p = assert(io.popen(table.concat({ "python3", files.quote(files.join(root, "bench/onnx_ort.py")), files.quote(jets_file),
    files.quote(bb_path), files.quote(cls_path), "--threads", o.threads, "--calls", o.calls }, " ")))
  for line in p:lines() do
    local path, seconds = line:match("^ort (%S+) (%S+)$")
    if path then ort[path] = tonumber(seconds) end
  end
  p:close()
  local function rate(s) return s and ("%.0f"):format(o.jets / s) or "n/a" end
  print(("%s: backbone.onnx %.1f MB, classifier.onnx %.1f MB; embedding jets/s: mpmlua %s, ONNX Runtime %s; "
    .. "classifier jets/s: mpmlua %s, ONNX Runtime %s"):format(preset, size(bb_path) / 1e6, size(cls_path) / 1e6,
    rate(embed), rate(ort[bb_path]), rate(classify), rate(ort[cls_path])))
end
