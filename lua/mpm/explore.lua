-- mpm.explore: a backbone and a dataset turned into an embeddings object (one vector per jet,
-- with labels, jet kinematics and class names) to look at in the REPL: PCA, neighbours, a
-- linear probe, class distances, plots, selection, saving, and two backbones side by side.
-- Everything runs on tensors (BLAS matmuls, LAPACK through mpm.linalg); nothing is per-jet Lua.
--   local E = mpm.explore.embed("runs/cfm/backbone.h5", "data/jetclass_test.h5")
--   print(E); print(E:probe()); E:plot{out = "pca.png"}
local mpm = require "mpm.core"
local check_options = require("mpm.options").check
local check_option_names = require("mpm.options").check_names
local autograd = require "mpm.autograd"
local progress = require "mpm.progress"
local plot = require "mpm.plot"
local nn = require "mpm.nn"
local optim = require "mpm.optim"
local jet_data = require "mpm.data"
local MPM = require("mpm.tasks.model").MPM
local backbones = require "mpm.backbone"
local files = mpm.files

local explore = {}

local Embeddings = {}
Embeddings.__index = Embeddings
Embeddings.__name = "mpm.explore.Embeddings"
explore.Embeddings = Embeddings

-- Errors raised inside helpers reach the user as one line, without a Lua position.
local function fail(fmt, ...) error(fmt:format(...), 0) end
local function one_line(message) return (tostring(message):gsub("^[^\n]-:%d+: ", ""):match("^[^\n]*")) end

local kinematics = { "pt", "eta", "mass", "multiplicity" }
-- Where each of them is in batch.jets: the Swift schema's jet columns (multiplicity is "n").
local kinematic_columns = {}
for i, name in ipairs(jet_data.JET_FEATURES) do kinematic_columns[name == "n" and "multiplicity" or name] = i end

-- E.classes: the class names, a list indexed by class number. A label read from E.labels is a
-- 0-D tensor, so E.classes[E.labels[1]] looks its number up too (a tensor is otherwise never
-- a table key). Two lists with the same names are equal, as plain lists compare in tests.
local ClassNames = {}
function ClassNames.__index(names, key)
  if mpm.is_tensor(key) and key:numel() == 1 and key:dtype() == "int64" then return rawget(names, key:item()) end
end
function ClassNames.__eq(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if rawget(a, i) ~= rawget(b, i) then return false end end
  return true
end

local function is_dataset(v) local mt = getmetatable(v); return type(mt) == "table" and rawget(mt, "__name") == "data.Dataset" end

-- The backbone module, and what its file says (path, preprocessing, registers), from a file,
-- "random", an MPM model or a backbone module.
local function resolve_backbone(backbone, preprocessing)
  local bb, record
  if type(backbone) == "string" then
    if backbone ~= "random" and not files.exists(backbone) then fail("explore.embed: no such backbone file %s", backbone) end
    local ok, b, r = pcall(backbones.from_spec, backbone)
    if not ok then fail("explore.embed: %s is not a saved MPM backbone (%s)", backbone, one_line(b)) end
    bb, record = b, r
  elseif type(backbone) == "table" and getmetatable(backbone) == MPM then
    bb, record = backbone:backbone(), { kind = "module", path = "MPM model" }
  elseif nn.is_module(backbone) then
    local name = backbone:type_name()
    local mt = getmetatable(backbone)
    local swift = type(mt) == "table" and rawget(mt, "__name") == "nn.Module"
    if swift and name ~= "MPMBackbone" then
      fail("explore.embed: the backbone is a %s, not an MPM backbone (use mpm.load_backbone(path) or model:backbone())", name)
    end
    bb, record = backbone, { kind = "module", path = name }
  else
    fail("explore.embed: backbone must be a backbone file, \"random\" or a backbone module, got %s", type(backbone))
  end
  local pre = preprocessing
  if pre == nil or pre == "auto" then pre = record.preprocessing or false end
  if type(pre) == "string" then
    local ok, loaded = pcall(jet_data.preprocessing, { file = pre })
    if not ok then fail("explore.embed: %s", one_line(loaded)) end
    record.preprocessing, pre = pre, loaded
  end
  return bb, record, pre
end

local function resolve_data(data)
  if type(data) == "string" then
    if not files.exists(data) then fail("explore.embed: no such data file %s", data) end
    local ok, ds = pcall(jet_data.open, data)
    if not ok then fail("explore.embed: %s", one_line(ds)) end
    return ds, data
  end
  if is_dataset(data) then return data, data.path end
  fail("explore.embed: data must be a jet file or a dataset (mpm.data.open), got %s", type(data))
end

-- 1-based rows of the file to embed: all, the first n, or the given ones (a list or tensor of
-- whole numbers: 1.5 is neither a count nor a row, so it is refused rather than truncated).
local function resolve_jets(jets, total)
  if jets == false then return mpm.arange(1, total + 1) end
  if type(jets) == "number" then
    if jets ~= math.floor(jets) then
      fail("explore.embed: jets = %s is not a whole number of jets (give a count, a list of rows, or false for all)", tostring(jets))
    end
    if jets < 1 then fail("explore.embed: jets = %d: give at least 1 jet (or false for all %d)", jets, total) end
    if jets > total then fail("explore.embed: jets = %d, but the file holds %d jets", jets, total) end
    return mpm.arange(1, math.tointeger(jets) + 1)
  end
  local rows
  if mpm.is_tensor(jets) and jets:dtype() ~= "bool" then
    rows = jets:reshape(-1)
    if rows:dtype() ~= "int64" then
      local fractional = rows:ne(rows:floor())
      if fractional:any():item() then
        fail("explore.embed: jets must be whole row numbers, found %s", tostring(rows:masked_select(fractional)[1]:item()))
      end
      rows = rows:long()
    end
  elseif type(jets) == "table" and not mpm.is_tensor(jets) then
    for i = 1, #jets do
      local row = jets[i]
      if math.type(row) ~= "integer" and not (type(row) == "number" and row == math.floor(row)) then
        fail("explore.embed: jets[%d] = %s is not a row number", i, tostring(row))
      end
    end
    rows = mpm.tensor(jets, { dtype = "int64" })
  else
    fail("explore.embed: jets must be a count, a list or tensor of rows, or false for all, got %s",
      mpm.is_tensor(jets) and "a boolean tensor" or type(jets))
  end
  if rows:numel() == 0 then fail("explore.embed: jets is empty") end
  if rows:min():item() < 1 or rows:max():item() > total then
    fail("explore.embed: jets must be rows 1..%d of the file", total)
  end
  return rows
end

local pools = {}
function pools.mean(particles, batch) return particles:segment_mean(batch.offsets) end
function pools.max(particles, batch) return particles:segment_max(batch.offsets) end
function pools.registers(particles, batch, with_registers, register_offsets)
  local b = batch.batch_size
  local r = (with_registers:size(1) - particles:size(1)) // b
  if r < 1 then fail("explore.embed: pool = \"registers\", but this backbone has no registers") end
  -- Every set starts with its r register rows.
  local rows = register_offsets:narrow(1, 1, b):reshape(b, 1) + mpm.arange(1, r + 1):reshape(1, r)
  return with_registers:index_select(1, rows:reshape(-1)):reshape(b, r, -1):mean(2)
end

local embed_defaults = { jets = false, batch_size = 256, pool = "mean", preprocessing = "auto", seed = 1, progress = "auto",
  precision = "fp32" }

--- mpm.explore.embed(backbone, data [, {jets=all, batch_size=256, pool="mean", preprocessing=,
--- seed=1, progress="auto", precision="fp32"}]) -> E: one vector per jet (precision "bf16":
--- the backbone's products in bfloat16 with fp32 accumulation, mpm.autocast). backbone is a
--- backbone file (its preprocessing is taken from its record, found beside the file when the run moved),
--- "random", an MPM model or a backbone module; data is a jet file or a dataset. jets: all,
--- the first n, or a list/tensor of 1-based rows. pool: "mean" (of the particle outputs),
--- "registers" (mean of the register outputs), "max", or a function(particles, batch,
--- with_registers, register_offsets) -> [B, D]. preprocessing: a path, an object or false
--- (default: the backbone's; none for a module). Neutral impact parameters get the
--- preprocessing's N(0,1) noise from seed + the batch's first position - 1. Runs without
--- gradients in eval mode (the module's mode is restored), with a progress line on a terminal.
--- E holds vectors [N, D], labels [N], pt, eta, mass, multiplicity [N], jets [N] (rows of
--- the file), classes (names: E.classes[E.labels[i]] is jet i's), source; #E is N.
---   local E = mpm.explore.embed("runs/cfm/backbone.h5", "data/jetclass_test.h5", {jets = 500})
function explore.embed(backbone, data, options)
  local o = check_options("explore.embed", options, embed_defaults, 2)
  local pool = type(o.pool) == "function" and o.pool or pools[o.pool]
  if not pool then fail("explore.embed: pool must be \"mean\", \"registers\", \"max\" or a function, got %s", tostring(o.pool)) end
  if math.type(o.batch_size) ~= "integer" or o.batch_size < 1 then fail("explore.embed: batch_size must be a positive integer") end
  if o.precision ~= "fp32" and o.precision ~= "bf16" then fail("explore.embed: precision must be \"fp32\" or \"bf16\", got %s", tostring(o.precision)) end
  local bb, record, pre = resolve_backbone(backbone, o.preprocessing)
  local ds, data_path = resolve_data(data)
  if #ds == 0 then fail("explore.embed: %s holds no jets", data_path) end
  local rows = resolve_jets(o.jets, #ds)
  local n = rows:numel()
  local t0 = mpm.clock()
  local was_training = bb.training
  local restore <close> = setmetatable({}, { __close = function() if was_training then bb:train() end end })
  bb:eval()
  local no_grad <close> = autograd.no_grad()
  local line = progress.new(n > 4 * o.batch_size and o.progress or "none")
  local parts = { vectors = {}, labels = {}, jets = {}, kinematics = {} }
  for first = 1, n, o.batch_size do
    local count = math.min(o.batch_size, n - first + 1)
    local batch = ds:read(rows:narrow(1, first, count))
    parts.labels[#parts.labels + 1] = batch.labels
    parts.jets[#parts.jets + 1] = batch.jet_indices
    parts.kinematics[#parts.kinematics + 1] = batch.jets
    if pre then batch = pre:transform(batch, o.seed + first - 1) end
    local ok, particles, with_registers, register_offsets = pcall(autograd.autocast, o.precision, bb, batch)
    if not ok then
      -- Ctrl-C is the user's, not the backbone's failure: let it through as it came.
      if tostring(particles):find("interrupted!$") then error(particles, 0) end
      fail("explore.embed: the backbone failed on jets %d..%d: %s", first, first + count - 1, one_line(particles))
    end
    local v = pool(particles, batch, with_registers, register_offsets)
    if not mpm.is_tensor(v) or v:dim() ~= 2 or v:size(1) ~= count then
      fail("explore.embed: pool must return [B, D] = [%d, D]", count)
    end
    parts.vectors[#parts.vectors + 1] = v:float()
    line:tick(function()
      local done = first + count - 1
      return ("embed %d/%d jets | %.0f jets/s"):format(done, n, done / math.max(mpm.clock() - t0, 1e-9))
    end)
  end
  line:finish()
  local jets = mpm.cat(parts.kinematics)
  local seconds = mpm.clock() - t0
  return explore.new {
    vectors = mpm.cat(parts.vectors), labels = mpm.cat(parts.labels), jets = mpm.cat(parts.jets),
    pt = jets:select(2, kinematic_columns.pt), eta = jets:select(2, kinematic_columns.eta),
    mass = jets:select(2, kinematic_columns.mass), multiplicity = jets:select(2, kinematic_columns.multiplicity),
    classes = ds.classes,
    source = { backbone = record.path or record.kind, data = data_path, pool = type(o.pool) == "string" and o.pool or "function",
      preprocessing = record.preprocessing, seconds = seconds, jets_per_second = n / math.max(seconds, 1e-9) },
  }
end

--- mpm.explore.new{vectors=, labels=, classes=, pt=, eta=, mass=, multiplicity=, jets=, source=}
--- -> E: an embeddings object from tensors you already have (vectors [N, D]; labels [N],
--- 1-based classes; the rest optional).
---   local E = mpm.explore.new{vectors = mpm.randn(100, 8), labels = mpm.randint(1, 3, {100})}
function explore.new(t)
  check_option_names("explore.new", t, { vectors = true, labels = true, classes = true, pt = true, eta = true,
    mass = true, multiplicity = true, jets = true, source = true })
  local v = t.vectors
  if not mpm.is_tensor(v) or v:dim() ~= 2 then fail("explore.new: vectors must be a [N, D] tensor") end
  local n = v:size(1)
  local E = { vectors = v:float(), source = t.source or {} }
  local labels = t.labels or mpm.ones(n, { dtype = "int64" })
  if not mpm.is_tensor(labels) then labels = mpm.tensor(labels, { dtype = "int64" }) end
  if labels:numel() ~= n then fail("explore.new: labels has %d entries for %d vectors", labels:numel(), n) end
  E.labels = labels:long():reshape(-1)
  if n > 0 and E.labels:min():item() < 1 then
    fail("explore.new: labels must be class numbers counting from 1, found %d", E.labels:min():item())
  end
  -- A NaN or infinite vector would make every PCA, distance and probe number NaN.
  local bad = E.vectors:isfinite():logical_not():any(2):nonzero()
  if bad:numel() > 0 then fail("explore.new: vector %d holds NaN or infinite values", bad[1][1]:item()) end
  for _, k in ipairs(kinematics) do
    if t[k] then
      if t[k]:numel() ~= n then fail("explore.new: %s has %d entries for %d vectors", k, t[k]:numel(), n) end
      E[k] = t[k]:float():reshape(-1)
    end
  end
  E.jets = t.jets and t.jets:long():reshape(-1) or mpm.arange(1, n + 1)
  local classes = {}
  local largest = n > 0 and E.labels:max():item() or 0
  for c = 1, largest do classes[c] = (t.classes and t.classes[c]) or ("class " .. c) end
  for c = largest + 1, #(t.classes or {}) do classes[c] = t.classes[c] end
  E.classes = setmetatable(classes, ClassNames)
  return setmetatable(E, Embeddings)
end

function Embeddings.__len(E) return E.vectors:size(1) end

-- Jets per class, as {count, ...} indexed by class number.
local function class_counts(E)
  local counts = {}
  for c = 1, #E.classes do counts[c] = 0 end
  if #E > 0 then
    local values, _, n = E.labels:unique()
    local vs, ns = values:tolist(), n:tolist()
    for i, c in ipairs(vs) do counts[c] = ns[i] end
  end
  return counts
end

function Embeddings.__tostring(E)
  local counts, shown = class_counts(E), {}
  for c, name in ipairs(E.classes) do
    if counts[c] > 0 then shown[#shown + 1] = ("%s %d"):format(name, counts[c]) end
  end
  local s = E.source
  local lines = { ("Embeddings: %d jets x %d dims%s"):format(#E, E.vectors:size(2), s.pool and (", pool " .. s.pool) or "") }
  if s.backbone then lines[#lines + 1] = "  backbone " .. tostring(s.backbone) end
  if s.data then lines[#lines + 1] = "  data     " .. tostring(s.data) end
  if s.jets_per_second then lines[#lines + 1] = ("  embedded in %.2f s (%.0f jets/s)"):format(s.seconds, s.jets_per_second) end
  lines[#lines + 1] = ("  jets per class (%d): %s"):format(#shown, table.concat(shown, ", "))
  lines[#lines + 1] = "  fields: vectors, labels, classes, pt, eta, mass, multiplicity, jets; E:<TAB> for methods"
  return table.concat(lines, "\n")
end

-- A readable result table: printed as "name value" lines.
local Result = {}
Result.__index = Result
local function result(title, t, order)
  t.__title, t.__order = title, order
  return setmetatable(t, Result)
end
local function fmt(v)
  if math.type(v) == "float" then return ("%.4f"):format(v) end
  if type(v) == "table" and not getmetatable(v) then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = ("%s %s"):format(k, fmt(v[k])) end
    return table.concat(parts, ", ")
  end
  return tostring(v)
end
function Result.__tostring(r)
  local lines = { r.__title }
  for _, k in ipairs(r.__order) do
    if r[k] ~= nil then lines[#lines + 1] = ("  %-12s %s"):format(k, fmt(r[k])) end
  end
  return table.concat(lines, "\n")
end

--- E:select(what) -> E2: the jets of one class (a name or number), of several ({"QCD",
--- "HToBB"}), where a boolean mask [N] is true, or at 1-based rows (an int64 tensor).
---   local higgs = E:select{"HToBB", "HToCC"}; local hard = E:select(E.pt:gt(600))
function Embeddings:select(what)
  local mask
  if mpm.is_tensor(what) and what:dtype() == "bool" then
    if what:numel() ~= #self then fail("E:select: the mask has %d entries for %d jets", what:numel(), #self) end
    mask = what:reshape(-1)
  elseif mpm.is_tensor(what) and what:dim() == 0 then
    -- E.labels[i] (a class) and idx[i] of E:neighbours (a row) are both 0-D tensors: say which.
    fail("E:select: a single-value tensor is ambiguous: give a class as a number (E:select(E.labels[1]:item())) or rows as a 1-D tensor")
  elseif mpm.is_tensor(what) then
    local rows = what:reshape(-1)
    if rows:dtype() ~= "int64" and rows:ne(rows:floor()):any():item() then fail("E:select: rows must be whole numbers") end
    return self:_rows(rows:long())
  else
    local wanted = type(what) == "table" and what or { what }
    mask = mpm.zeros(#self, { dtype = "bool" })
    for _, c in ipairs(wanted) do
      local number = c
      if type(c) == "string" then
        for i, name in ipairs(self.classes) do if name == c then number = i end end
        if number == c then fail("E:select: no class %q (classes: %s)", c, table.concat(self.classes, ", ")) end
      elseif math.type(c) ~= "integer" then
        fail("E:select: expected a class name or number, a list of them, or a boolean mask, got %s", type(c))
      elseif c < 1 or c > #self.classes then
        fail("E:select: no class %d (classes 1..%d: %s)", c, #self.classes, table.concat(self.classes, ", "))
      end
      mask = mask:logical_or(self.labels:eq(number))
    end
  end
  local rows = mask:nonzero():reshape(-1)
  return self:_rows(rows)
end

function Embeddings:_rows(rows)
  if rows:numel() > 0 and (rows:min():item() < 1 or rows:max():item() > #self) then fail("E:select: rows must be in 1..%d", #self) end
  -- The source without the embedding's timing, which was for all of the jets.
  local source = {}
  for k, v in pairs(self.source) do if k ~= "seconds" and k ~= "jets_per_second" then source[k] = v end end
  local t = { vectors = self.vectors:index_select(1, rows), labels = self.labels:index_select(1, rows),
    jets = self.jets:index_select(1, rows), classes = self.classes, source = source }
  for _, k in ipairs(kinematics) do if self[k] then t[k] = self[k]:index_select(1, rows) end end
  if rows:numel() == 0 then
    t.vectors = mpm.zeros(0, self.vectors:size(2))
    return setmetatable(t, Embeddings)
  end
  return explore.new(t)
end

--- E:pca([k=2]) -> projections [N, k], explained [k], components [D, k]: the principal
--- components of the centred vectors (eigenvectors of their covariance by LAPACK, largest
--- first, each with its largest-magnitude entry positive), the vectors projected on them and
--- the fraction of the total variance each explains.
---   local P, explained = E:pca(2); print(explained)
function Embeddings:pca(k)
  k = k or 2
  local d = self.vectors:size(2)
  if math.type(k) ~= "integer" or k < 1 or k > d then fail("E:pca: k must be an integer in 1..%d, got %s", d, tostring(k)) end
  if #self < 2 then fail("E:pca: needs at least 2 jets, have %d", #self) end
  local x = self.vectors - self.vectors:mean(1, true)
  local cov = x:t():matmul(x) / (#self - 1)
  local values, vectors = mpm.linalg.eigh(cov)
  local order = mpm.arange(d, d - k, -1)  -- largest first
  local components = vectors:index_select(2, order)
  -- Fix each component's sign so results do not flip between runs or libraries.
  local _, at = components:abs():max(1, true)
  local signs = components:gather(1, at):sign():masked_fill(components:gather(1, at):eq(0), 1)
  components = components * signs
  local total = values:clamp(0):sum():item()
  local explained = values:index_select(1, order):clamp(0) / (total > 0 and total or 1)
  return x:matmul(components), explained, components
end

local metric_names = { cosine = true, euclidean = true }

--- E:neighbours(i_or_vector, k [, {metric="cosine"}]) -> indices [k], distances [k]: the k
--- nearest jets to jet i (itself left out) or to a vector [D] ([M, D] gives [M, k]), nearest
--- first, by one matrix product (mpm.linalg.cdist). metric "cosine" or "euclidean".
---   local idx, dist = E:neighbours(1, 5); print(E.labels:index_select(1, idx))
function Embeddings:neighbours(query, k, options)
  local o = check_options("E:neighbours", options, { metric = "cosine" }, 2)
  if not metric_names[o.metric] then fail("E:neighbours: metric must be \"cosine\" or \"euclidean\", got %s", tostring(o.metric)) end
  local n, d = #self, self.vectors:size(2)
  local q, self_row
  -- A jet number read from a tensor (idx[1] of an earlier call) is a 0-D int64 tensor.
  if mpm.is_tensor(query) and query:dim() == 0 and query:dtype() == "int64" then query = query:item() end
  if math.type(query) == "integer" then
    if query < 1 or query > n then fail("E:neighbours: jet %d is not in 1..%d", query, n) end
    q, self_row = self.vectors:narrow(1, query, 1), query
  elseif mpm.is_tensor(query) and query:numel() % d == 0 and query:numel() > 0 then
    q = query:float():reshape(-1, d)
    if not q:isfinite():all():item() then fail("E:neighbours: the query vector holds NaN or infinite values") end
  else
    fail("E:neighbours: expected a jet number or a vector of %d values", d)
  end
  local available = self_row and n - 1 or n
  if math.type(k) ~= "integer" or k < 1 then fail("E:neighbours: k must be a positive integer, got %s", tostring(k)) end
  if k > available then fail("E:neighbours: k = %d is larger than the %d jets available", k, available) end
  local dist = mpm.linalg.cdist(q, self.vectors, { metric = o.metric })
  if self_row then dist = dist:masked_fill(mpm.arange(1, n + 1):eq(self_row):reshape(1, n), math.huge) end
  local values, indices = dist:topk(k, 2, false)
  if q:size(1) == 1 and (self_row or query:dim() == 1) then return indices:reshape(-1), values:reshape(-1) end
  return indices, values
end

-- The jets per class present ({class = count}), refused when fewer than two classes are
-- present: `what` (a probe, distances between classes) compares classes, so one class gives a
-- number (accuracy 1, distance 0) that means nothing.
function Embeddings:_classes_present(caller, what)
  local present, names = {}, {}
  for c, count in pairs(class_counts(self)) do
    if count > 0 then present[c] = count; names[#names + 1] = self.classes[c] end
  end
  if #self == 0 then fail("%s: there are no jets", caller) end
  if #names < 2 then
    fail("%s: all %d jets are of one class (%s); %s needs at least two (the classes: %s)", caller, #self, names[1], what,
      table.concat(self.classes, ", "))
  end
  return present
end

local probe_defaults = { train_fraction = 0.5, seed = 1, steps = 300, lr = 0.05, weight_decay = 1e-4 }

--- E:probe([{train_fraction=0.5, seed=1, steps=300, lr=0.05, weight_decay=1e-4}]) ->
--- {accuracy=, per_class={name = accuracy}, seconds=, train=, test=, loss=}: a multinomial
--- logistic regression (a zero-initialised Linear on standardised vectors, full-batch AdamW)
--- trained on a random split (train_fraction, seed) and scored on the rest. Jets of a single
--- class are refused (there is nothing to tell apart).
---   print(E:probe{steps = 500}.accuracy)
function Embeddings:probe(options)
  local o = check_options("E:probe", options, probe_defaults, 2)
  if type(o.train_fraction) ~= "number" or not (o.train_fraction > 0 and o.train_fraction < 1) then
    fail("E:probe: train_fraction must be between 0 and 1 (exclusive), got %s", tostring(o.train_fraction))
  end
  if math.type(o.steps) ~= "integer" or o.steps < 1 then fail("E:probe: steps must be a positive whole number, got %s", tostring(o.steps)) end
  if type(o.lr) ~= "number" or not (o.lr > 0 and o.lr < math.huge) then fail("E:probe: lr must be a positive number, got %s", tostring(o.lr)) end
  self:_classes_present("E:probe", "a probe")
  local t0 = mpm.clock()
  local n = #self
  local ntrain = math.floor(n * o.train_fraction + 0.5)
  if ntrain < 1 or ntrain >= n then fail("E:probe: a split of %d jets at train_fraction %g leaves no train or no test jets", n, o.train_fraction) end
  local order = mpm.randperm(n, { generator = mpm.Generator(o.seed) })
  local train_rows, test_rows = order:narrow(1, 1, ntrain), order:narrow(1, ntrain + 1, n - ntrain)
  local x, y = self.vectors, self.labels
  local xtr = x:index_select(1, train_rows)
  local mean, std = xtr:mean(1, true), xtr:std(1, true):clamp(1e-6)
  xtr = (xtr - mean) / std
  local xte = (x:index_select(1, test_rows) - mean) / std
  local ytr, yte = y:index_select(1, train_rows), y:index_select(1, test_rows)
  local classes = math.max(#self.classes, y:max():item())
  local head = nn.Linear(x:size(2), classes)
  autograd.no_grad(function() head.weight:zero_(); head.bias:zero_() end)
  local opt = optim.AdamW(head:parameters(), { lr = o.lr, weight_decay = o.weight_decay })
  local loss
  for _ = 1, o.steps do
    opt:zero_grad()
    loss = nn.functional.cross_entropy(head(xtr), ytr)
    loss:backward()
    opt:step()
  end
  local predicted = autograd.no_grad(function() return head(xte):argmax(2) end)
  local correct = predicted:eq(yte)
  local per_class = {}
  for c = 1, classes do
    local of_c = yte:eq(c)
    local count = of_c:long():sum():item()
    if count > 0 then per_class[self.classes[c] or ("class " .. c)] = correct:logical_and(of_c):long():sum():item() / count end
  end
  return result("probe (logistic regression)", { accuracy = correct:float():mean():item(), per_class = per_class,
    seconds = mpm.clock() - t0, train = ntrain, test = n - ntrain, loss = loss:item() },
    { "accuracy", "per_class", "train", "test", "loss", "seconds" })
end

--- E:class_distances([{metric="euclidean", max_per_class=1000, seed=1}]) -> matrix [C, C],
--- summary: the mean distance between jets of classes i and j (the diagonal: between distinct
--- jets of one class), on at most max_per_class random jets of each class present (rows and
--- columns of absent classes are NaN); summary = {within=, between=, ratio = between / within}
--- (means over the classes present). Jets of a single class are refused.
---   local m, s = E:class_distances(); print(s.ratio)
function Embeddings:class_distances(options)
  local o = check_options("E:class_distances", options, { metric = "euclidean", max_per_class = 1000, seed = 1 }, 2)
  if not metric_names[o.metric] then fail("E:class_distances: metric must be \"cosine\" or \"euclidean\"") end
  if math.type(o.max_per_class) ~= "integer" or o.max_per_class < 2 then
    fail("E:class_distances: max_per_class must be a whole number of at least 2, got %s", tostring(o.max_per_class))
  end
  local counts = self:_classes_present("E:class_distances", "a distance between classes")
  local largest = 0
  for _, count in pairs(counts) do largest = math.max(largest, count) end
  if largest < 2 then fail("E:class_distances: every class holds a single jet; the distance within a class needs two") end
  local gen = mpm.Generator(o.seed)
  local groups, present = {}, {}
  for c = 1, #self.classes do
    local rows = self.labels:eq(c):nonzero():reshape(-1)
    if rows:numel() > o.max_per_class then
      rows = rows:index_select(1, mpm.randperm(rows:numel(), { generator = gen }):narrow(1, 1, o.max_per_class))
    end
    if rows:numel() > 0 then groups[c] = self.vectors:index_select(1, rows); present[#present + 1] = c end
  end
  local C = #self.classes
  local m = mpm.full({ C, C }, 0 / 0)
  local within, between, nw, nb = 0, 0, 0, 0
  local values = {}
  for _, i in ipairs(present) do
    values[i] = {}
    for _, j in ipairs(present) do
      local d = mpm.linalg.cdist(groups[i], groups[j], { metric = o.metric })
      local ni, nj = groups[i]:size(1), groups[j]:size(1)
      local mean
      if i == j then mean = ni > 1 and d:sum():item() / (ni * (ni - 1)) or 0 / 0 else mean = d:mean():item() end
      values[i][j] = mean
      if i == j then if mean == mean then within, nw = within + mean, nw + 1 end else between, nb = between + mean, nb + 1 end
    end
  end
  for i = 1, C do for j = 1, C do if values[i] and values[i][j] then m[i][j] = values[i][j] end end end
  within, between = within / math.max(nw, 1), between / math.max(nb, 1)
  return m, result("class distances (" .. o.metric .. ")", { within = within, between = between, ratio = between / within },
    { "within", "between", "ratio" })
end

--- E:save(path): vectors, labels, kinematics, jet rows, class names and source in one HDF5
--- file (mpm.save: datasets and attributes h5py reads); written atomically, its folder created
--- when missing.
---   E:save("embeddings.h5")   -- h5py: f["vectors"][:], f["labels"][:]
function Embeddings:save(path)
  if type(path) ~= "string" then fail("E:save: path must be a string") end
  local made, why = pcall(files.mkdir, files.dirname(path))
  if not made then fail("E:save: cannot write %s: %s", path, one_line(why)) end
  local record = { vectors = self.vectors, labels = self.labels, jets = self.jets,
    classes = self.classes, source = {} }
  for _, k in ipairs(kinematics) do record[k] = self[k] end
  for k, v in pairs(self.source) do if type(v) ~= "function" then record.source[k] = v end end
  local saved, problem = pcall(mpm.records.save, path, "embeddings", record)
  if not saved then fail("E:save: %s", one_line(problem)) end
end

--- mpm.explore.load(path) -> E: embeddings written by E:save, exactly as they were saved.
---   local E = mpm.explore.load("embeddings.h5")
function explore.load(path)
  if type(path) ~= "string" or not files.exists(path) then fail("explore.load: no such file %s", tostring(path)) end
  local ok, saved = pcall(mpm.records.load, path, "embeddings")
  if not ok then fail("explore.load: %s", saved) end
  setmetatable(saved.classes, ClassNames)
  return setmetatable(saved, Embeddings)
end

local plot_defaults = { out = false, color = "class", components = false, title = false, terminal = false,
  width = 900, height = 640 }

--- E:plot([{out=, color="class", components={1, 2}, title=, terminal=}]) -> path or nil,
--- message: the PCA view, a scatter of two principal components coloured by class (or by
--- "pt", "eta", "mass", "multiplicity" in a colour scale), through mpm.plot.scatter: a PNG at
--- out, and in the REPL drawn in the terminal (see mpm.plot.scatter).
---   E:plot{out = "pca.png"}; E:plot{color = "pt", terminal = "dumb"}
function Embeddings:plot(options)
  local o = check_options("E:plot", options, plot_defaults, 2)
  local comps = o.components or { 1, 2 }
  local d = self.vectors:size(2)
  if type(comps) ~= "table" or #comps ~= 2 or math.type(comps[1]) ~= "integer" or math.type(comps[2]) ~= "integer"
      or comps[1] == comps[2] or math.min(comps[1], comps[2]) < 1 or math.max(comps[1], comps[2]) > d then
    fail("E:plot: components must be two different principal components in 1..%d, e.g. {1, 2}", d)
  end
  local k = math.max(comps[1], comps[2])
  local projections, explained = self:pca(k)
  local xi, yi = comps[1], comps[2]
  local spec = { x = projections:select(2, xi), y = projections:select(2, yi), out = o.out or nil, terminal = o.terminal or nil,
    width = o.width, height = o.height,
    title = o.title or ("PCA of %s (%d jets)"):format(tostring(self.source.backbone or "embeddings"), #self),
    xlabel = ("PC%d (%.1f%%)"):format(xi, 100 * explained[xi]:item()),
    ylabel = ("PC%d (%.1f%%)"):format(yi, 100 * explained[yi]:item()) }
  if o.color == "class" then
    spec.groups, spec.names = self.labels, self.classes
  elseif self[o.color] and mpm.is_tensor(self[o.color]) and self[o.color]:numel() == #self then
    spec.color, spec.color_label = self[o.color], o.color
  else
    fail("E:plot: color must be \"class\" or one of pt, eta, mass, multiplicity, got %s", tostring(o.color))
  end
  return plot.scatter(spec)
end

local compare_defaults = { jets = false, batch_size = 256, pool = "mean", preprocessing = "auto", seed = 1, k = 10,
  queries = 1000, metric = "cosine", probe = false, progress = "auto" }

--- mpm.explore.compare(backbones, data [, {jets=, batch_size=, pool=, preprocessing=, seed=1,
--- k=10, queries=1000, metric="cosine", probe={...}}]) -> result: embeds the same jets with
--- each backbone (a list of files, "random" or modules; a backbone without a preprocessing of
--- its own uses the first one found among the others, so all see the same inputs), probes each
--- on the same split, and scores k-NN agreement: the mean fraction of a jet's k nearest
--- neighbours shared by two embeddings (on up to `queries` jets; 1 = same neighbourhoods,
--- about k/N for unrelated ones). result = {names=, embeddings=, probe = {accuracy...},
--- knn_agreement = [B, B] matrix}, printed as a table.
---   print(mpm.explore.compare({"runs/cfm/backbone.h5", "random"}, "data/jetclass_test.h5"))
function explore.compare(backbones, data, options)
  local o = check_options("explore.compare", options, compare_defaults, 2)
  if type(backbones) ~= "table" or #backbones < 2 then fail("explore.compare: give a list of at least two backbones") end
  for _, key in ipairs { "k", "queries" } do
    if math.type(o[key]) ~= "integer" or o[key] < 1 then fail("explore.compare: %s must be a positive whole number, got %s", key, tostring(o[key])) end
  end
  local pre = o.preprocessing
  if pre == "auto" then
    for _, b in ipairs(backbones) do
      if type(b) == "string" and b ~= "random" and files.exists(b) then
        local _, record = resolve_backbone(b, nil)
        if record.preprocessing then pre = record.preprocessing; break end
      end
    end
  end
  local names, embeddings, probes = {}, {}, {}
  for i, b in ipairs(backbones) do
    local own
    if type(b) == "string" and b ~= "random" then own = select(2, resolve_backbone(b, nil)).preprocessing end
    embeddings[i] = explore.embed(b, data, { jets = o.jets, batch_size = o.batch_size, pool = o.pool,
      preprocessing = own or pre, seed = o.seed, progress = o.progress })
    names[i] = type(b) == "string" and b or tostring(embeddings[i].source.backbone)
    probes[i] = embeddings[i]:probe(o.probe or { seed = o.seed })
  end
  local n = #embeddings[1]
  if n < 2 then fail("explore.compare: k-NN agreement needs at least 2 jets, have %d", n) end
  local k = math.min(o.k, n - 1)
  local queries = math.min(o.queries, n)
  local rows = mpm.randperm(n, { generator = mpm.Generator(o.seed) }):narrow(1, 1, queries)
  local neighbours = {}
  for i, E in ipairs(embeddings) do
    local d = mpm.linalg.cdist(E.vectors:index_select(1, rows), E.vectors, { metric = o.metric })
    d = d:scatter(2, rows:reshape(-1, 1), math.huge)  -- a jet is not its own neighbour
    local _, idx = d:topk(k, 2, false)
    -- As a [queries, N] membership matrix, so shared neighbours are one elementwise product.
    neighbours[i] = mpm.zeros(queries, n):scatter(2, idx, 1)
  end
  local B = #embeddings
  local agreement = mpm.zeros(B, B)
  for i = 1, B do
    for j = 1, B do agreement[i][j] = (neighbours[i] * neighbours[j]):sum():item() / (queries * k) end
  end
  local out = { names = names, embeddings = embeddings, probe = probes, knn_agreement = agreement, k = k, queries = queries }
  return setmetatable(out, { __tostring = function(r)
    local lines = { ("%-40s %10s   k-NN agreement (k=%d, %s, %d jets) with"):format("backbone", "probe acc", k, o.metric, queries) }
    for i, name in ipairs(r.names) do
      local parts = {}
      for j = 1, B do if j ~= i then parts[#parts + 1] = ("#%d %.3f"):format(j, r.knn_agreement[i][j]:item()) end end
      lines[#lines + 1] = ("#%d %-37s %10.4f   %s"):format(i, name, r.probe[i].accuracy, table.concat(parts, "  "))
    end
    return table.concat(lines, "\n")
  end })
end

return explore
