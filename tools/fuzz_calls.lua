-- Calls every function of the mpm library, every tensor method and the methods of common
-- objects (modules, optimiser, dataset, loader) with random arguments under pcall. Errors are
-- expected; the host must never crash. A crash kills the process, and with --verbose the last
-- line printed names the call that did it.
--   mpmlua tools/fuzz_calls.lua [--seed N] [--calls N] [--data DIR] [--verbose]
-- `make test` runs a few seeds (Tests/LuaBindingsTests/HostCommandLineTests.swift).
local o = mpm.cli.options(arg, {
  { "seed", 1, "integer", "seed of the random calls" },
  { "calls", 3000, "integer", "number of calls" },
  { "data", "data", "string", "folder of the bundled .h5 files" },
  { "verbose", false, "flag", "print each call before making it" },
}, "mpmlua tools/fuzz_calls.lua [options]")
if o == nil then return end
local seed, calls, data, verbose = o.seed, o.calls, o.data, o.verbose
math.randomseed(seed)

-- Functions that write files, start training, print or run callbacks for long are left out.
-- (A function that exits the process would end the run early: the test checks the last line.)
local excluded = { save = true, write = true, open = true, timeit = true, pretrain = true, train = true,
  fit = true, help = true, plot = true, repl = true, finetune = true, mkdir = true, lock = true,
  remove_stale_temporaries = true, write_csv = true }

-- Tensors of every kind the API meets: empty, 0-D, strided, expanded, bool, int, NaN, released.
local tensor_makers = {
  function() return mpm.randn(3, 4) end, function() return mpm.zeros(0) end, function() return mpm.zeros(0, 3) end,
  function() return mpm.tensor(5) end, function() return mpm.tensor(2.5) end, function() return mpm.arange(6):view(2, 3) end,
  function() return mpm.ones(2, 3, { dtype = "bool" }) end, function() return mpm.randn(2, 3, 4):transpose(1, 3) end,
  function() return mpm.tensor({ 1, 2, 3 }) end, function() return mpm.tensor({ 0, 2, 5 }) end,
  function() return mpm.tensor({ -3, 2 ^ 40, 7 }) end, function() return mpm.randn(4, { requires_grad = true }) end,
  function() return mpm.full({ 1, 1 }, 0 / 0) end, function() return mpm.randn(2, 3, 4, 5) end,
  function() return mpm.tensor({ { true, false }, { false, true } }) end, function() return mpm.randn(5, 2):t() end,
  function() return mpm.tensor({ 1, 2, 3, 4 }):expand(3, 4) end, function() return mpm.randn(6)[{ { 2, 5 } }] end,
  function() local t = mpm.randn(2); t:release(); return t end,
}
local function random_tensor() return tensor_makers[math.random(#tensor_makers)]() end

-- Arguments: extreme numbers, wrong types, option tables, tensors. No size here is both
-- accepted and large, so a run stays small in memory.
local argument_makers = {
  function() return nil end, function() return 0 end, function() return -1 end, function() return 1 end,
  function() return 2 end, function() return 4 end, function() return -2 end, function() return 0.5 end,
  function() return 3.5 end, function() return 1e18 end, function() return -1e18 end, function() return 2 ^ 62 end,
  function() return 0 / 0 end, function() return math.huge end, function() return math.mininteger end,
  function() return math.maxinteger end, function() return "x" end, function() return "" end,
  function() return "float32" end, function() return "int64" end, function() return true end,
  function() return {} end, function() return { {} } end, function() return { 1, 2 } end, function() return { -1, 0 } end,
  function() return { 1, 2, 3, 4 } end, function() return { { 1 }, { 2, 3 } } end, function() return { 2, 1e12 } end,
  function() return { dim = 1 } end, function() return { requires_grad = true } end, function() return { dtype = "bool" } end,
  function() return function() error("callback failed") end end, function() return mpm.nn.Linear(3, 4) end,
  random_tensor, random_tensor, random_tensor,
}
local function random_argument() return argument_makers[math.random(#argument_makers)]() end

-- Targets: {name, function, self maker or nil}.
local targets, seen = {}, {}
local function add_functions(prefix, t, depth)
  if depth > 3 or seen[t] then return end
  seen[t] = true
  for key, value in pairs(t) do
    if type(key) == "string" and not excluded[key] then
      if type(value) == "function" then targets[#targets + 1] = { prefix .. key, value }
      elseif type(value) == "table" then add_functions(prefix .. key .. ".", value, depth + 1) end
    end
  end
end
add_functions("mpm.", mpm, 0)

local function add_methods(prefix, make)
  local ok, object = pcall(make)
  if not ok or object == nil then return end
  local class = getmetatable(object)
  for _ = 1, 4 do   -- userdata method tables, and Lua classes up their chain
    if type(class) ~= "table" then break end
    for _, methods in ipairs { rawget(class, "methods") or false, rawget(class, "__index") or false, class } do
      if type(methods) == "table" then
        for key, value in pairs(methods) do
          if type(key) == "string" and type(value) == "function" and not key:match("^__") and not excluded[key] then
            targets[#targets + 1] = { prefix .. key, value, make }
          end
        end
      end
    end
    local meta = getmetatable(class)
    class = meta and rawget(meta, "__index")
  end
end
add_methods("tensor:", random_tensor)
add_methods("Linear:", function() return mpm.nn.Linear(3, 4) end)
add_methods("LayerNorm:", function() return mpm.nn.LayerNorm(3) end)
add_methods("MultiheadAttention:", function() return mpm.nn.MultiheadAttention(8, 2) end)
add_methods("Sequential:", function() return mpm.nn.Sequential(mpm.nn.Linear(3, 3), mpm.nn.Linear(3, 2)) end)
add_methods("Embedding:", function() return mpm.nn.Embedding(5, 3) end)
add_methods("AdamW:", function() return mpm.optim.AdamW(mpm.nn.Linear(2, 2):parameters(), { lr = 1e-3 }) end)
add_methods("dataset:", function() return mpm.data.open(data .. "/btag_val.h5") end)
add_methods("loader:", function() return mpm.data.open(data .. "/jetclass_val.h5"):loader { batch_size = 4 } end)
-- A stable order, so a seed always makes the same calls.
table.sort(targets, function(a, b) return a[1] < b[1] end)

local function describe(value)
  if mpm.is_tensor(value) then
    local ok, shape = pcall(value.shape, value)
    return ok and ("tensor[" .. table.concat(shape, "x") .. "]") or "released tensor"
  end
  if type(value) == "table" then return "table#" .. #value end
  return (tostring(value):match("^[^\n]*"))   -- a module prints as a tree: its first line
end

local failures = 0
for call = 1, calls do
  local target = targets[math.random(#targets)]
  local arguments, count = {}, math.random(0, 4)
  local first = 1
  if target[3] then
    local ok, object = pcall(target[3])
    arguments[1], first, count = ok and object or nil, 2, count + 1
  end
  for position = first, count do arguments[position] = random_argument() end
  if verbose then
    local shown = {}
    for position = 1, count do shown[position] = describe(arguments[position]) end
    print(("%d %s(%s)"):format(call, target[1], table.concat(shown, ", ")))
    io.stdout:flush()
  end
  if not pcall(target[2], table.unpack(arguments, 1, count)) then failures = failures + 1 end
end
print(("fuzz_calls: seed %d, %d calls over %d targets, %d raised errors, no crash"):format(seed, calls, #targets, failures))
