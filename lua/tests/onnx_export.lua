-- mpm.onnx.export and --export-onnx, with ONNX and ONNX Runtime as the oracle (tools/onnx_oracle.py):
-- onnx.checker passes, ONNX Runtime's outputs equal mpmlua's on bundled jets of mixed
-- multiplicity (max absolute difference <= 1e-4; padding changes nothing), the numpy preprocessing
-- of docs/export.md equals mpmlua's on the same jets, and what the exporter
-- refuses, in one line with nothing written. Without python3, onnx and onnxruntime (make deps
-- installs them) the comparison is skipped with a message; the refusals are checked anyway.
local T = require "mpm.testing"
local files = mpm.files
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
local dir = os.tmpname()
os.remove(dir)
files.mkdir(dir)
local function at(name) return files.join(dir, name) end
local function bundled(name) return files.join(root, "data/" .. name) end

-- The committed protobuf-c code is protoc-c's output for Debian's onnx.proto.
if os.execute("command -v protoc-c >/dev/null 2>&1 && test -f /usr/include/onnx/onnx.proto") then
  T.equal(os.execute("sh " .. files.quote(root .. "/tools/gen_onnx_proto.sh") .. " --check"), true,
    "Sources/CONNX is protoc-c's output for /usr/include/onnx/onnx.proto")
end

-- A fine-tuned classifier: classify writes run/model.h5 and, with export_onnx, the ONNX file
-- and its preprocessing beside it.
mpm.manual_seed(5)
mpm.downstream.classify { out = at("run"), classes = 10, epochs = 1, train_jets = 200, val_jets = 50, test_jets = 64,
  quiet = true, data = bundled("jetclass_train.h5"), val = bundled("jetclass_val.h5"), test = bundled("jetclass_test.h5"),
  export_onnx = at("classifier.onnx") }
T.equal(files.kind(at("classifier.onnx")), "file", "--export-onnx wrote the classifier")
T.equal(files.kind(at("classifier.preprocessing.h5")), "file", "and its preprocessing beside it")

-- A per-particle protocol saves its network too (a PerTrackMLP head), and --export-onnx exports it.
T.script(files.join(root, "examples/tracks.lua"), "--epochs", "1", "--train-jets", "200", "--test-jets", "50", "--quiet",
  "--out", at("tracks_run"), "--export-onnx", at("tracks_run.onnx"))
T.equal(mpm.records.load(at("tracks_run/model.h5"), "finetuned-model").head.type, "PerTrackMLP", "tracks' model.h5")
T.equal(files.kind(at("tracks_run.onnx")), "file", "--export-onnx on the tracks protocol")

-- mpmlua's outputs on 64 test jets, preprocessed as the run did.
local predict, record = mpm.downstream.load_model(at("run/model.h5"))
local pre = mpm.data.preprocessing { file = record.preprocessing }
local batch = mpm.data.open(bundled("jetclass_test.h5")):loader { batch_size = 64, preprocessing = pre, max_jets = 64, seed = 3 }:iter()()
local padded = batch:padded()
local raw = mpm.data.open(bundled("jetclass_test.h5")):loader { batch_size = 64, max_jets = 64, seed = 3 }:iter()()
T.equal(raw.jet_indices:tolist(), batch.jet_indices:tolist(), "the same jets in physical units")

-- A second network whose encoder matters (LayerScale 0.5 instead of 1e-3), exported from the
-- modules: the backbone alone, the classifier on it, heads without a backbone, and the
-- per-particle heads (track identification on the backbone, vertexing on the inputs).
local bb, spec = mpm.backbone.from_spec("random", { preset = "small" })
mpm.no_grad(function()
  for name, p in bb:named_parameters() do
    if name:match("%.ls%d%.gamma$") then p:fill_(0.5) end
  end
end)
local head = mpm.nn.ClassAttentionClassifier(spec.dim, 3)
local bare = mpm.nn.ClassAttentionClassifier(mpm.backbone.INPUT_DIM, 1)
local tracks, edges = mpm.nn.PerTrackMLP(spec.dim, 4), mpm.nn.EdgeHead(mpm.backbone.INPUT_DIM)
for _, m in ipairs { bb, head, bare, tracks, edges } do m:eval() end
local case = mpm.no_grad(function()
  local particles, with_registers, offsets = bb(batch)
  local r = spec.config.registers
  local rows = {}
  for b = 1, batch.offsets:numel() - 1 do
    for k = 1, r do rows[#rows + 1] = offsets[b]:item() + k end
  end
  return {
    features = padded.features, types = padded.types - 1, mask = padded.mask, raw_features = raw:padded().features,
    classifier_logits = predict(batch), classifier_scores = mpm.softmax(predict(batch), 2),
    particles = particles, pooled = particles:segment_mean(batch.offsets),
    registers = with_registers:index_select(1, mpm.tensor(rows):long()):reshape(-1, r, particles:size(2)),
    logits = head(with_registers, offsets), bare_logits = bare(mpm.backbone.inputs(batch), batch.offsets),
    track_logits = tracks(particles), edge_logits = edges(mpm.backbone.inputs(batch), batch.offsets),
  }
end)
mpm.save(at("case.h5"), case)
mpm.onnx.export(bb, at("backbone.onnx"))
mpm.onnx.export({ backbone = bb, head = head, class_names = { "a", "b", "c" } }, at("strong.onnx"))
mpm.onnx.export(bare, at("bare.onnx"))
mpm.onnx.export({ backbone = bb, head = tracks }, at("tracks.onnx"))
mpm.onnx.export(edges, at("edges.onnx"))

-- Refusals: one line, nothing written (no file, no temporary).
local function listing()
  local ls = assert(io.popen("ls -A " .. files.quote(dir)))
  local names = ls:read("a")
  ls:close()
  return names
end
local before = listing()
T.raises(function() mpm.onnx.export(mpm.nn.Linear(3, 4), at("x.onnx")) end,
  "%.lua:%d+: mpm%.onnx%.export: cannot export Linear at the top %(the exporter knows MPMBackbone, ClassAttentionClassifier")
T.raises(function() mpm.onnx.export({ backbone = bb, head = mpm.nn.MLP(128, 4) }, at("x.onnx")) end,
  "mpm%.onnx%.export: cannot export MLP at head ")
local MyHead = mpm.nn.Module:extend "MyHead"
function MyHead:init() self.lin = mpm.nn.Linear(128, 2) end
function MyHead:forward(x) return self.lin(x) end
T.raises(function() mpm.onnx.export({ backbone = bb, head = MyHead() }, at("x.onnx")) end,
  "%.lua:%d+: mpm%.onnx%.export: cannot export MyHead at head ")
T.raises(function() mpm.onnx.export(at("run/preprocessing.h5"), at("x.onnx")) end,
  "%.lua:%d+: mpm%.onnx%.export: .*preprocessing.h5 is not a saved fine%-tuned model")
T.raises(function() mpm.onnx.export(bb, at("backbone.onnx")) end,
  "%.lua:%d+: mpm%.onnx%.export: .*backbone.onnx exists %(pass overwrite = true to replace it%)$")
T.raises(function() mpm.onnx.export(bb, at("no/such/folder.onnx")) end, "%.lua:%d+: mpm%.onnx%.export: cannot write .*: no folder ")
T.raises(function() mpm.onnx.export(bb, at("run")) end, "%.lua:%d+: mpm%.onnx%.export: .*run is a directory, not a file$")
T.raises(function() mpm.onnx.export(bb, at("x.onnx"), { overwrite = 1 }) end, "option 'overwrite'")
T.raises(function() mpm.onnx.export(bb, at("x.onnx"), { opset = 18 }) end, "mpm%.onnx%.export: unknown option 'opset'")
local spoilt = mpm.nn.ClassAttentionClassifier(15, 2)
mpm.no_grad(function() spoilt.output.weight:fill_(0 / 0) end)
T.raises(function() mpm.onnx.export(spoilt, at("x.onnx")) end,
  "%.lua:%d+: mpm%.onnx%.export: the model has a non%-finite weight %(NaN%) in head.output.weight; nothing was written$")
T.equal(listing(), before, "a refused export leaves nothing in the folder (no file, no temporary)")
T.equal(mpm.onnx.export(bb, at("backbone.onnx"), { overwrite = true }).path, at("backbone.onnx"), "overwrite replaces")

if not os.execute("python3 -c 'import onnx, onnxruntime, h5py, numpy, scipy' >/dev/null 2>&1") then
  print("onnx_export.lua: SKIPPED the ONNX Runtime comparison: python3 cannot import onnx, onnxruntime, h5py, numpy and scipy "
    .. "(make deps installs them: python3 -m pip install --only-binary=:all: onnx onnxruntime h5py scipy)")
  return
end
local command = table.concat({ "python3", files.quote(root .. "/tools/onnx_oracle.py"), files.quote(at("case.h5")),
  "--preprocessing", files.quote(at("classifier.preprocessing.h5")),
  files.quote(at("classifier.onnx") .. ":logits=classifier_logits,scores=classifier_scores"),
  files.quote(at("backbone.onnx") .. ":particles=particles,pooled=pooled,registers=registers"),
  files.quote(at("strong.onnx") .. ":logits=logits"), files.quote(at("bare.onnx") .. ":logits=bare_logits"),
  files.quote(at("tracks.onnx") .. ":logits=track_logits"), files.quote(at("edges.onnx") .. ":edge_logits=edge_logits") }, " ")
T.equal(os.execute(command), true, "ONNX Runtime's outputs equal mpmlua's (tools/onnx_oracle.py)")
