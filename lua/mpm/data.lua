-- mpm.data, the Lua half: the one rule for where a run's preprocessing comes from (a given file,
-- one saved by an earlier attempt of the run, or one fitted now and saved), used by pre-training,
-- the downstream protocols, explore and the tokenizer example; and where the bundled files are. The Swift half (files, loaders,
-- fitting) is mpm.core's data table, which this module extends and returns.
local mpm = require "mpm.core"
local options = require "mpm.options"
local data = mpm.data
local files = mpm.files

--- data.preprocessing{file=, fit_on=, jets=2000, save=, seed=} -> preprocessing, path
--- The fitted preprocessing to use: the one at `file` when given (missing is an error); else the
--- one already at `save` (a run resumed or rerun in the same directory); else one fitted on the
--- first `jets` jets of `fit_on` (a jet file) and written to `save` when given.
---   local pre, path = mpm.data.preprocessing{fit_on = "data/jetclass_train.h5", save = "runs/x/preprocessing.h5"}
function data.preprocessing(o)
  o = options.check("data.preprocessing", o, { file = false, fit_on = false, jets = 2000, save = false }, 2)
  if o.file and o.file ~= "" then
    if not files.exists(o.file) then error("preprocessing: no such file " .. o.file, 0) end
    return data.load_preprocessing(o.file), o.file
  end
  if o.save and files.exists(o.save) then return data.load_preprocessing(o.save), o.save end
  if not o.fit_on then error("preprocessing: no file to load and no jets to fit it on (fit_on)", 2) end
  local ds = type(o.fit_on) == "string" and data.open(o.fit_on) or o.fit_on
  local pre = ds:fit_preprocessing { jets = math.min(#ds, o.jets) }
  if o.save then pre:save(o.save) end
  return pre, o.save or nil
end

--- data.bundled(path, script) -> path: a file of the project's bundled data ("data/jetclass_train.h5")
--- as found from the working directory, else beside the folder of the script (arg[0]) that names
--- it (examples/ or bench/), so a script runs from any directory; a path found neither way is
--- returned as it is (opening it says what is missing).
---   local train = mpm.data.bundled("data/jetclass_train.h5", arg[0])
function data.bundled(path, script)
  if files.kind(path) then return path end
  local beside = files.join(files.dirname(files.dirname(script or ".")), path)
  return files.kind(beside) and beside or path
end

return data
