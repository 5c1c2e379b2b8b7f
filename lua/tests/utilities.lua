-- The one-home utilities: mpm.cli (defaults shared by a script and its Lua function),
-- mpm.stats.summary, mpm.tabular (CSV and JSONL written and read back, numbers one way),
-- train.Metrics through tabular (a resumed run keeps its rows up to the checkpoint),
-- mpm.progress.format_time, and mpm.plot's one API (out=, no path=).
local T = require "mpm.testing"
local cli = require "mpm.cli"
local stats = require "mpm.stats"
local tabular = require "mpm.tabular"
local progress = require "mpm.progress"
local metrics = require "mpm.train.metrics"
local dir = os.tmpname()
os.remove(dir)
mpm.files.mkdir(dir)
local function path(name) return dir .. "/" .. name end

-- cli: the defaults of a spec are what parsing no arguments gives, keyed alike.
local spec = {
  { "batch-size", 64, "integer", "jets per batch" },
  { "lr", 1e-3, "number", "learning rate" },
  { "resume", false, "flag", "continue" },
  { "out", "runs/x", "string", "run directory" },
}
T.equal(cli.defaults(spec), { batch_size = 64, lr = 1e-3, resume = false, out = "runs/x" }, "defaults keyed as parsed")
T.equal(cli.parse({}, spec, "test"), cli.defaults(spec), "no arguments give the defaults")
T.equal(cli.parse({ "--batch-size=8", "--resume" }, spec, "test").batch_size, 8, "--name=value")
T.raises(function() cli.parse({ "--batch-size", "x" }, spec, "test") end, "%-%-batch%-size expects an integer, got 'x'")
T.raises(function() cli.parse({ "--steps", "3" }, spec, "test") end, "unknown option %-%-steps")
T.equal(mpm.cli, cli, "mpm.cli is the module")

-- stats.summary: sd with n - 1, se = sd / sqrt(n); one value has no spread; none, nothing.
local s = stats.summary { 0.81, 0.83, 0.82 }
T.equal(s.n, 3, "n")
T.close(s.mean, 0.82, 1e-12, "mean")
T.close(s.sd, 0.01, 1e-12, "sd divides by n - 1")
T.close(s.se, 0.01 / math.sqrt(3), 1e-12, "se = sd / sqrt(n)")
T.equal(stats.summary { 5 }, { n = 1, mean = 5.0, sd = 0, se = 0.0 }, "one value")
T.equal(stats.summary {}, { n = 0 }, "no values")
T.raises(function() stats.summary { 1, "x" } end, "value 2 is a string")

-- tabular: numbers one way (integers plain, %.8g), empty cells for missing values, quoted text.
local columns = { "backbone", "size", "auc", "note" }
local rows = { { backbone = "runs/a,b", size = 100, auc = 0.123456789 }, { backbone = "random", size = 2000, auc = 1 / 3, note = 'a "b"' } }
T.equal(tabular.csv_text(columns, rows),
  'backbone,size,auc,note\n"runs/a,b",100,0.12345679,\nrandom,2000,0.33333333,"a ""b"""\n', "CSV text")
tabular.write_csv(path("sweep.csv"), columns, rows)
local read_columns, read_rows = tabular.read_csv(path("sweep.csv"))
T.equal(read_columns, columns, "header read back")
T.equal(read_rows, { { backbone = "runs/a,b", size = 100, auc = 0.12345679 }, { backbone = "random", size = 2000, auc = 0.33333333, note = 'a "b"' } },
  "rows read back (numbers as numbers, empty cells absent, quotes undone)")
T.equal(math.type(read_rows[1].size), "integer", "integers stay integers")
-- mpm.json gives back the very double it wrote (a result read back equals the one computed):
-- 0.0275... and 0.00189... came back an ulp off through JSONSerialization's parser.
local exact = { 0.027580943310693065, 0.0018912483090126166, 0.068575928088853, 1 / 3, 1e-300, 6.02214076e23 }
mpm.manual_seed(3)
for i = 1, 200 do exact[#exact + 1] = mpm.rand({}):item() * 10 ^ (i % 25 - 12) end
T.equal(mpm.json.decode(mpm.json.encode(exact)), exact, "JSON numbers round-trip exactly")
T.equal(mpm.json.decode('{"a": [1, 2.5, true, null, "x"], "n": null}'), { a = { 1, 2.5, true, nil, "x" } }, "JSON values")
T.raises(function() mpm.json.decode('{"a" 1}') end, "not valid JSON %(Invalid value around character 5")
T.raises(function() mpm.json.decode("[1e400]") end, "not valid JSON")
T.equal(tabular.jsonl_line { step = 10, loss = 1 / 3, nan = 0 / 0 }, '{"loss":0.33333333,"nan":null,"step":10}', "JSONL line")
local f = assert(io.open(path("rows.jsonl"), "w"))
f:write(tabular.jsonl_line { step = 1, loss = 0.5 }, "\n", '{"step": 2, "loss": null}', "\n\n")
f:close()
T.equal(tabular.read_jsonl(path("rows.jsonl")), { { step = 1, loss = 0.5 }, { step = 2 } }, "JSONL read back (null is absent)")
f = assert(io.open(path("bad.jsonl"), "w"))
f:write('{"step": 1}\n{"step": \n')
f:close()
T.raises(function() tabular.read_jsonl(path("bad.jsonl")) end, "bad%.jsonl:2 is not a JSON object")

-- train.Metrics: the same lines; a resumed run keeps the rows up to its checkpoint's step.
for _, format in ipairs { "csv", "jsonl" } do
  local file = path("metrics." .. format)
  local m = metrics.Metrics(file, format, { "step", "loss", "val_loss" })
  for step = 1, 4 do m:write { step = step, loss = 1 / step, val_loss = step == 2 and 0.25 or nil, ignored = 7 } end
  m:close()
  m = metrics.Metrics(file, format, { "step", "loss", "val_loss" }, 2)
  m:write { step = 3, loss = 0.5 }
  m:close()
  local data = mpm.plot.read_metrics(file)
  T.equal(data.step, { 1, 2, 3 }, format .. ": rows up to the checkpoint, then the resumed ones")
  T.equal(data.loss, { 1, 0.5, 0.5 }, format .. ": values")
  T.equal(data.val_loss[2], 0.25, format .. ": validation row")
  T.equal(data.val_loss[1] ~= data.val_loss[1], true, format .. ": missing values are NaN")
  T.equal(data.ignored, nil, format .. ": only the columns are written")
end
T.equal(io.open(path("metrics.csv")):read("a"), "step,loss,val_loss\n1,1,\n2,0.5,0.25\n3,0.5,\n", "the CSV metrics format")
T.equal(io.open(path("metrics.jsonl")):read("l"), '{"loss":1,"step":1}', "the JSONL metrics format")

-- progress
T.equal(progress.format_time(42), "42s", "seconds")
T.equal(progress.format_time(187), "3m07s", "minutes")
T.equal(progress.format_time(7500), "2h05m", "hours")
T.equal(progress.format_time(0 / 0), "?", "unknown")
T.equal(mpm.files.isatty(1), false, "tests do not write to a terminal")

-- plot: one API. out= everywhere (path= is an unknown option), and out= or a terminal is needed.
T.raises(function() mpm.plot.lines { path = path("a.png"), series = {} } end, "unknown option 'path'")
T.raises(function() mpm.plot.histograms { path = path("a.png"), panels = {} } end, "unknown option 'path'")
T.raises(function() mpm.plot.lines { series = { { x = { 1 }, y = { 1 } } } } end, "out= %(a %.png path%) is required")
if mpm.plot.available() then
  T.equal(mpm.plot.lines { out = path("lines.png"), series = { { x = { 1, 2 }, y = { 2, 1 }, yerr = { 0.1, 0.1 } } } },
    path("lines.png"), "lines png")
  T.equal(mpm.plot.histograms { out = path("h.png"), panels = { { title = "x", density = true,
    series = { { values = { 1, 2, 2, 3 } }, { values = mpm.tensor { 1, 1, 2 } } } } } }, path("h.png"), "histograms png")
  T.equal(mpm.plot.loss_curve(path("metrics.csv"), path("loss.png")), path("loss.png"), "loss curve")
  T.equal(mpm.files.exists(path("loss.png")), true, "loss curve written")
end
for _, name in ipairs { "lines", "histograms", "read_metrics", "loss_curve", "available" } do
  T.equal((mpm.doc(mpm.plot[name]) or ""):find("\n  ") ~= nil, true, "mpm.plot." .. name .. " has an example")
end

os.execute("rm -rf " .. mpm.files.quote(dir))

-- files.write is byte for byte: NUL, bytes that are not UTF-8, a PNG's signature.
local binary_path, binary = os.tmpname(), "\x89PNG\r\n\x1a\n\0\xff\xfe end"
mpm.files.write(binary_path, binary)
local written = assert(io.open(binary_path, "rb"))
T.equal(written:read("a"), binary, "files.write keeps every byte")
written:close()
os.remove(binary_path)

-- mpm.files.digest: SHA-256 of the content, remembered only while the file is the same file.
local digest_path = os.tmpname()
mpm.files.write(digest_path, "abc")
T.equal(mpm.files.digest(digest_path), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 of 'abc'")
mpm.files.write(digest_path, "abd")
T.equal(mpm.files.digest(digest_path), "a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9", "a rewritten file is read again")
os.remove(digest_path)
