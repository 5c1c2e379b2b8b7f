-- One defaults table per entry point: mpm.downstream.classify called from Lua with the options a
-- protocol script was given gives the same result.json as the script, because the script's
-- command line is read from classify's own option table (downstream.OPTIONS).
local T = require "mpm.testing"
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
local base = os.tmpname()
os.remove(base)
local function data(name) return root .. "/data/" .. name end

local sizes = { "--preset", "tiny", "--epochs", "4", "--train-jets", "64", "--test-jets", "200", "--quiet" }
local files_given = { "--data", data("jetclass_train.h5"), "--val", data("jetclass_val.h5"), "--test",
  data("jetclass_test.h5"), "--fit-data", data("jetclass_train.h5") }
local args = { "--out", base .. "_script" }
for _, list in ipairs { sizes, files_given } do for _, a in ipairs(list) do args[#args + 1] = a end end
local from_script = T.script(root .. "/examples/jetclass.lua", table.unpack(args))

local from_lua = mpm.downstream.classify {
  out = base .. "_lua", preset = "tiny", epochs = 4, train_jets = 64, test_jets = 200, quiet = true,
  data = data("jetclass_train.h5"), val = data("jetclass_val.h5"), test = data("jetclass_test.h5"),
  fit_data = data("jetclass_train.h5"), classes = 10, class_names = table.concat(mpm.data.JETCLASS_CLASSES, ","),
  protocol = "jetclass", kind = "jetclass",
}

-- Everything but the times and the paths under each run's own directory must agree.
local function comparable(result)
  local copy = mpm.json.decode(mpm.json.encode(result))
  copy.times, copy.backbone.preprocessing, copy.training.curve, copy.training.metrics = nil, nil, nil, nil
  return mpm.json.encode(copy)
end
T.equal(comparable(from_lua), comparable(from_script), "the same result from the REPL and the script")
T.equal(from_lua.options.batch_size, 64, "the script's default batch size is classify's")
T.equal(from_lua.options.val_jets, 300, "the script's default validation size is classify's")

-- The fine-tuned classifier saved beside the result (a finetuned-model record) predicts the
-- test jets as the run did.
local predict, saved = mpm.downstream.load_model(base .. "_lua/model.h5")
T.equal(saved.head.classes, 10, "the record's head")
local pre = mpm.data.load_preprocessing(saved.preprocessing)
local test = mpm.data.open(data("jetclass_test.h5")):loader { batch_size = 250, seed = 3, preprocessing = pre, max_jets = 200 }
local scores = mpm.downstream.predict(predict, test)
local written = mpm.load(base .. "_lua/predictions.h5").scores
T.close((scores - written):abs():max():item(), 0, 1e-5, "the loaded model's scores are the run's predictions")
os.execute("rm -rf '" .. base .. "'_*")
