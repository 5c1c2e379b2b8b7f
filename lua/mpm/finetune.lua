-- mpm.finetune: the downstream trainer. A head (mpm.nn.ClassAttentionClassifier or any module)
-- on a backbone (mpm.load_backbone, a random-init one, or none), trained with the MPMv2
-- fine-tuning recipe on a train.Run (the run directory, checkpoints, exact resume, metrics,
-- progress and the ranks under mpirun are the run's); this file adds the step, the schedule,
-- early stopping and the options:
--
--   local bb, record = mpm.load_backbone("runs/cfm/backbone.h5")
--   local head = mpm.nn.ClassAttentionClassifier(bb.dim, 10)
--   local result = mpm.finetune.run{backbone = bb, head = head, loader = train, val_loader = val,
--     steps = 2000, out = "runs/jetclass"}
--
-- Modes: "finetune" (the backbone starts frozen; at unfreeze_at it joins at ~1e-4 of the head's
-- lr and catches up linearly over `catchup` steps), "frozen" (never trained) and "full" (all
-- trained from step 1: random-init and head-only baselines). AdamW, a warm-up from 0.1x of the
-- lr to the lr, then cosine decay to final_lr x lr. Validation every val_every steps, early
-- stopping after `patience` validations without a better loss, and the best weights kept.
local mpm = require "mpm.core"
local autograd = require "mpm.autograd"
local cli = require "mpm.cli"
local options = require "mpm.options"
local nn = require "mpm.nn"
local optim = require "mpm.optim"
local backbones = require "mpm.backbone"
local train = require "mpm.train"
local finetune = {}

--- finetune.OPTIONS: the options of finetune.run, {name, default, kind, help} each (kind false:
--- Lua only; the protocol command lines show the others). false as a default: none, or derived.
finetune.OPTIONS = {
  { "head", "required", false, "the head module (mpm.nn.ClassAttentionClassifier(dim, classes), ...)" },
  { "loader", "required", false, "training batches" }, { "val_loader", false, false, "validation batches" },
  { "backbone", false, false, "a backbone module, or false: the head reads mpm.backbone.inputs(batch)" },
  { "steps", "required", "integer", "training steps" },
  { "mode", "finetune", "string", "finetune (frozen, then caught up) or frozen (pre-trained backbones only)" },
  { "loss", "cross_entropy", false, "'cross_entropy', 'bce' (one logit) or function(logits, batch) -> loss" },
  { "label_smoothing", 0.1, false, "cross-entropy label smoothing" },
  { "bce_smoothing", 0.05, false, "BCE targets moved towards 1/2 by a random amount up to this" },
  { "lr", 1e-4, "number", "head learning rate" }, { "weight_decay", 1e-5, false, "AdamW weight decay" },
  { "final_lr", 1e-3, false, "cosine decay's end, a fraction of lr" }, { "clip", 1.0, false, "gradient clipping norm" },
  { "warmup", false, false, "warm-up steps from 0.1x of lr (default steps/10)" },
  { "unfreeze_at", false, false, "finetune mode: the step the backbone joins (default steps/10)" },
  { "catchup", false, false, "finetune mode: steps of its ramp from 1e-4 to 1 of the head's lr (default steps/10)" },
  { "val_every", false, false, "validate every N steps (default steps/10)" },
  { "val_batches", 1000000, false, "validation batches (default all)" },
  { "log_every", false, false, "log every N steps (default steps/50)" },
  { "patience", 5, "integer", "validations without a lower loss before stopping early, counted from the backbone's catch-up on (false: none)" },
  { "keep_best", true, false, "hand back the weights of the best validation" },
  { "out", false, false, "run directory" }, { "resume", false, false, "continue the run in out" },
  { "overwrite", false, false, "replace a run in out" }, { "metrics", "csv", false, "csv or jsonl" },
  { "progress", "auto", false, "auto, line, plain or none" }, { "quiet", false, "flag", "no progress output" },
  { "on_log", false, false, "function(row) at each logged row" },
  { "precision", "fp32", "string", "matrix products: fp32, or bf16 (bfloat16 inputs, fp32 accumulation; weights, optimiser state, norms and losses stay fp32; runs in fp32, saying so, where the CPU has no bf16)" },
  { "input", "set", false, "set: the backbone output with registers; particles: without (per-particle heads)" },
  { "accuracy", false, false, "function(logits, batch) -> correct, count (default: the jet labels)" },
}
local defaults = cli.defaults(finetune.OPTIONS)

--- mpm.finetune.network(backbone, head, input, precision) -> forward(batch, frozen) -> logits:
--- backbone (or false: mpm.backbone.inputs) then head, its products in `precision`, the backbone
--- without gradients when frozen. input "set": the head reads the backbone's output with
--- registers and its offsets (set-level heads); "particles": the particle outputs with the
--- registers removed and the batch's offsets (per-particle heads: PerTrackMLP, EdgeHead).
---   local logits = mpm.finetune.network(bb, head, "set", "fp32")(batch, true)
function finetune.network(backbone, head, input, precision)
  local function run(batch, frozen)
    if not backbone then return head(backbones.inputs(batch), batch.offsets) end
    local encode = input == "particles"
      and function() return (backbone(batch.features, batch.types, batch.offsets)), batch.offsets end
      or function() return select(2, backbone(batch.features, batch.types, batch.offsets)) end
    local encoded, offsets
    if frozen then encoded, offsets = autograd.no_grad(encode) else encoded, offsets = encode() end
    return head(encoded, offsets)
  end
  return function(batch, frozen) return autograd.autocast(precision, run, batch, frozen) end
end

-- The loss of logits against a batch: cross-entropy with label smoothing, or for one logit a
-- BCE whose 0/1 targets are moved towards 1/2 by a random amount up to bce_smoothing.
local function loss_function(o)
  if type(o.loss) == "function" then return o.loss end
  if o.loss == "cross_entropy" then
    return function(logits, batch)
      return nn.functional.cross_entropy(logits, batch.labels, { label_smoothing = o.label_smoothing })
    end
  elseif o.loss == "bce" then
    return function(logits, batch)
      local target = batch.labels:float() - 1
      if o.bce_smoothing > 0 then
        local amount = mpm.rand(target:size(1)) * o.bce_smoothing
        target = target * (1 - amount) + (1 - target) * amount
      end
      return nn.functional.binary_cross_entropy_with_logits(logits:reshape(-1), target)
    end
  end
  error(("finetune: loss must be 'cross_entropy', 'bce' or a function, got %s"):format(tostring(o.loss)), 0)
end

--- mpm.finetune.schedule(o) -> head_factor, backbone_factor: the lr factors by step. Head:
--- 0.1 -> 1 over warmup steps, then cosine to final_lr. Backbone ("finetune" mode): 0 before
--- unfreeze_at, then the head's factor times a ramp from 1e-4 to 1 over catchup steps.
function finetune.schedule(o)
  local steps, warmup = o.steps, o.warmup
  local function head(s)
    if s < warmup then return 0.1 + 0.9 * s / warmup end
    local progress = math.min(1, (s - warmup) / math.max(1, steps - warmup))
    return o.final_lr + (1 - o.final_lr) * 0.5 * (1 + math.cos(math.pi * progress))
  end
  local function backbone(s)
    if o.mode == "full" then return head(s) end
    if s < o.unfreeze_at then return 0 end
    return head(s) * math.min(1, math.max(1e-4, (s - o.unfreeze_at) / math.max(1, o.catchup)))
  end
  return head, backbone
end

local function check(given)
  local o = options.check("finetune", given, defaults, 3)
  local function fail(message) error("finetune: " .. message, 3) end
  if math.type(o.steps) ~= "integer" or o.steps < 1 then fail("steps must be a positive integer") end
  if o.input ~= "set" and o.input ~= "particles" then
    fail(("input must be 'set' or 'particles', got '%s'"):format(tostring(o.input)))
  end
  if o.accuracy and type(o.accuracy) ~= "function" then fail("accuracy must be false or function(logits, batch) -> correct, count") end
  if o.mode ~= "finetune" and o.mode ~= "frozen" and o.mode ~= "full" then
    fail(("mode must be 'finetune', 'frozen' or 'full', got '%s'"):format(tostring(o.mode)))
  end
  if not nn.is_module(o.head) then fail("head must be a module (mpm.nn.ClassAttentionClassifier(...))") end
  if o.backbone and not nn.is_module(o.backbone) then fail("backbone must be a module or false") end
  if o.mode == "frozen" and not o.backbone then fail("mode 'frozen' needs a backbone") end
  if o.resume and not o.out then fail("resume needs out (the run directory holding checkpoint.h5)") end
  if o.precision ~= "fp32" and o.precision ~= "bf16" then fail(("precision must be fp32 or bf16, got %s"):format(tostring(o.precision))) end
  if o.patience and (math.type(o.patience) ~= "integer" or o.patience < 1) then fail("patience must be a positive integer or false") end
  -- Sizes scaled to the run (MPMv2: 10k warm-up, unfreeze at 5k, catch up over 5k of 200k).
  o.warmup = o.warmup or math.max(1, o.steps // 10)
  o.unfreeze_at = o.unfreeze_at or math.max(1, o.steps // 10)
  o.catchup = o.catchup or math.max(1, o.steps // 10)
  return o
end

-- Correct predictions and their number in a batch of jet labels (one logit: > 0 is class 2).
local function class_accuracy(logits, batch)
  local predicted = logits:size(2) == 1 and (logits:reshape(-1):gt(0):long() + 1) or logits:argmax(2)
  return predicted:eq(batch.labels):sum():item(), batch.labels:size(1)
end

local function clone_state(m) local sd = {}; for k, t in pairs(m:state_dict()) do sd[k] = t:clone() end; return sd end

--- mpm.finetune.run{head=, loader=, steps=, backbone=, mode="finetune", ...} -> result: options and
--- defaults in finetune.OPTIONS. result = {step, first_loss, last_loss, best = {loss, step,
--- accuracy}, val, elapsed, steps_per_second, stopped_early, metrics, checkpoint, head, backbone
--- (the trained modules), predict = function(batch) -> logits}. Under mpirun with a sharded loader (train.sharded) the ranks train
--- one head data-parallel; with an unsharded loader each rank trains its own (a sweep).
function finetune.run(given)
  local o = check(given)
  local head, backbone = o.head, o.backbone
  local trained_backbone = backbone and o.mode ~= "frozen" and backbone or nil
  local forward, loss_of = finetune.network(backbone, head, o.input, o.precision), loss_function(o)
  local accuracy_of = o.accuracy or class_accuracy
  local run <close> = train.Run { name = "finetune", out = o.out, resume = o.resume, overwrite = o.overwrite,
    loader = o.loader, metrics = o.metrics, progress = o.progress, quiet = o.quiet }
  local _, fallback = mpm.precision_support(o.precision)
  if fallback then run:say("finetune: " .. fallback) end
  local groups = { { params = head:parameters() } }
  if trained_backbone then groups[2] = { params = backbone:parameters() } end
  local params = nn.utils.parameters_of({ head, trained_backbone or false })
  local opt = optim.AdamW(groups, { lr = o.lr, weight_decay = o.weight_decay })
  -- Every rank starts from rank 0's weights (a random-init backbone differs per rank).
  run:broadcast(nn.utils.parameters_of({ head, backbone or nil }))
  local head_factor, backbone_factor = finetune.schedule(o)
  local sched = optim.lr_scheduler.LambdaLR(opt, { lambda = { head_factor, backbone_factor } })
  local best = { loss = math.huge, step = 0, bad = 0 }
  -- The backbone joins at unfreeze_at ("finetune"), from the start ("full") or never ("frozen").
  local function trainable(step)
    return backbone and (o.mode == "full" or (o.mode == "finetune" and step >= o.unfreeze_at))
  end
  run:checkpoint("finetune-checkpoint", { head = head, backbone = backbone or nil, optim = opt, sched = sched,
    best = train.state_of(function() return best end, function(s) best = s end) }, { backbone = true, best = true })
  local start = run:resume()
  run:say(("finetune: head %s parameters, backbone %s (%s), steps %d%s"):format(
    tostring(head:num_parameters()), backbone and tostring(backbone:num_parameters()) or "none", o.mode, o.steps,
    start > 0 and (" (resuming after step " .. start .. ")") or ""))

  -- Early stopping waits for a backbone that joins late to have caught up: before that, a flat
  -- validation loss says nothing about what the whole network can do.
  local patience_from = (backbone and o.mode == "finetune") and (o.unfreeze_at + o.catchup) or 0
  local function validate(step)
    local correct, count = 0, 0
    local val = train.validate { loader = o.val_loader, batches = o.val_batches, modules = { head, backbone },
      generator = run.generator, evaluate = function(batch)
        local logits = forward(batch, true)
        local c, n = accuracy_of(logits, batch)
        correct, count = correct + c, count + n
        return loss_of(logits, batch)
      end }
    if not val then return nil end
    val.accuracy = correct / math.max(count, 1)
    if val.loss < best.loss then
      best = { loss = val.loss, step = step, bad = 0, accuracy = val.accuracy, head = clone_state(head),
        backbone = backbone and clone_state(backbone) or nil }
    elseif step >= patience_from then
      best.bad = best.bad + 1
    end
    return val
  end

  local summary = run:loop {
    steps = o.steps, val_every = o.val_every, log_every = o.log_every, val_names = { "accuracy" },
    columns = { "step", "epoch", "time", "lr", "backbone_lr", "grad_norm", "loss", "val_loss", "val_accuracy" },
    on_log = o.on_log or nil,
    step = function(step, batch)
      local active = trainable(step - 1)
      if backbone then backbone:requires_grad_(active and true or false) end
      opt:zero_grad()
      local loss = loss_of(forward(batch, not active), batch)
      train.check_loss(step, "head", loss)
      -- The losses are means over jets (over tracks for per-particle heads).
      local v = run:backward(batch, loss, {}, {}, nn.utils.parameters_of({ head, active and backbone or nil }),
        o.input == "particles" and batch.num_particles or batch.batch_size)
      local grad_norm = train.optimizer_step { step = step, params = params, optimizer = opt, schedule = sched,
        clip = o.clip, names = "head" }
      return { loss = v, grad_norm = grad_norm }
    end,
    validate = o.val_loader and validate or nil,
    stop = function(_, val) return val ~= nil and o.patience and best.bad >= o.patience end,
    row = function()
      return { lr = opt.param_groups[1].lr, backbone_lr = opt.param_groups[2] and opt.param_groups[2].lr or nil }
    end,
  }
  if summary.error then error(summary.error, 0) end
  if backbone then backbone:requires_grad_(true) end
  if o.keep_best and best.head then
    head:load_state_dict(best.head)
    if backbone and best.backbone then backbone:load_state_dict(best.backbone) end
  end
  head:eval()
  if backbone then backbone:eval() end
  run:say(("finetune: %d steps (%.2f steps/s)%s%s"):format(summary.step - start, summary.steps_per_second,
    summary.stopped and ", stopped early" or "",
    best.head and (", best validation loss %.4f (accuracy %.4f) at step %d"):format(best.loss, best.accuracy, best.step) or ""))
  return {
    step = summary.step, first_loss = summary.first_loss, last_loss = summary.last_loss, val = summary.val,
    best = best.head and { loss = best.loss, step = best.step, accuracy = best.accuracy } or nil,
    elapsed = summary.elapsed, steps_per_second = summary.steps_per_second, stopped_early = summary.stopped or false,
    metrics = run:metrics_path(), checkpoint = run.saver and run.saver.path, head = head, backbone = backbone or nil,
    predict = function(batch) return autograd.no_grad(forward, batch, true) end,
  }
end

return finetune
