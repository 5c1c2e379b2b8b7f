-- Records (mpm.records): one format tag and version per kind, defined in Swift. A record round
-- trips with its fields and nothing else, a file of another kind or without a kind is refused
-- in one line naming what it holds, files from before versions load as version 1, and a newer
-- version is refused.
local T = require "mpm.testing"
local records = mpm.records

local base = os.tmpname()
os.remove(base)
local function tmp(name) return base .. "_" .. name end

T.equal(records.kinds.backbone, { format = "mpm-backbone", version = 1, noun = "MPM backbone" }, "backbone kind")
for _, kind in ipairs { "backbone", "run", "train-checkpoint", "finetune-checkpoint", "tokenizer", "embeddings",
  "finetuned-model" } do
  assert(records.kinds[kind], "kind " .. kind)
end

local w = mpm.randn(3, 2)
records.save(tmp("run.h5"), "run", { task = "cfm", seed = 3, weights = w, nested = { with_id = true } })
local fields, version = records.load(tmp("run.h5"), "run")
T.equal(version, 1, "version")
T.equal(fields.task, "cfm", "string field")
T.equal(fields.seed, 3, "integer field")
T.equal(fields.nested.with_id, true, "nested boolean")
T.equal((fields.weights - w):abs():max():item(), 0, "tensor bit for bit")
T.equal(fields.format, nil, "the tag is not a field")
T.equal(fields.format_version, nil, "the version is not a field")
-- The file is a plain mpm.save file with the tag at its root (h5py sees attrs["format"]).
T.equal(mpm.load(tmp("run.h5")).format, "mpm-run", "tag at the root")

T.raises(function() records.load(tmp("run.h5"), "backbone") end,
  "run.h5 is not a saved MPM backbone %(it holds a saved pre%-training run%)")
mpm.save(tmp("plain.h5"), { x = 1 })
T.raises(function() records.load(tmp("plain.h5"), "tokenizer") end, "it holds values with no record format")
mpm.save(tmp("odd.h5"), { format = "something-else" })
T.raises(function() records.load(tmp("odd.h5"), "tokenizer") end, "it holds format 'something%-else'")
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
T.raises(function() records.load(root .. "/data/btag_test.h5", "embeddings") end,
  "btag_test.h5 is not a saved embeddings file %(it is an HDF5 file that mpm.save did not write%)")
T.raises(function() records.load(tmp("missing.h5"), "run") end, "no such file")
T.raises(function() records.load(tmp("run.h5"), "model") end, "unknown record kind 'model'")
T.raises(function() records.save(tmp("x.h5"), "run", { format = "mine" }) end, "field 'format' of a record is reserved")
T.raises(function() records.save(tmp("x.h5"), "run", { f = print }) end, "mpm.records.save: f is a function")

-- Files from before versions carry the tag alone: version 1. A newer version is refused.
mpm.save(tmp("old.h5"), { format = "mpm-vq-tokenizer", config = { dim = 4 } })
local old, old_version = records.load(tmp("old.h5"), "tokenizer")
T.equal({ old.config.dim, old_version }, { 4, 1 }, "an old file loads as version 1")
mpm.save(tmp("new.h5"), { format = "mpm-embeddings", format_version = 2 })
T.raises(function() records.load(tmp("new.h5"), "embeddings") end, "version 2; this mpmlua reads versions 1...1")

for _, name in ipairs { "run.h5", "plain.h5", "odd.h5", "old.h5", "new.h5" } do os.remove(tmp(name)) end
