-- mpm.finetune: the downstream trainer. A head (mpm.nn.ClassAttentionClassifier or any module)
-- on a backbone (mpm.load_backbone, a random-init one, or none), trained with the MPMv2
-- fine-tuning recipe on the same parts as pre-training (lua/mpm/train/: one step loop, one
-- checkpoint format, one progress line, one metrics writer):
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
-- Checkpoints hold all of it (freeze state included), so a resumed run continues exactly.
-- Under mpirun with a sharded loader (train.sharded) the ranks train one head data-parallel, as
-- mpm.train.run does: rank 0's weights broadcast, gradients averaged, rank 0 writes.
return function(mpm)
  local train, files, dist = mpm.train, mpm.files, mpm.distributed
  local finetune = {}

  local defaults = {
    head = "required", loader = "required", steps = "required", backbone = false, mode = "finetune",
    loss = "cross_entropy", label_smoothing = 0.1, bce_smoothing = 0.05, classes = false,
    lr = 1e-4, weight_decay = 1e-5, warmup = false, final_lr = 1e-3, clip = 1.0,
    unfreeze_at = false, catchup = false, val_loader = false, val_every = false, val_batches = 1000000, log_every = false,
    patience = 5, keep_best = true, out = false, resume = false, overwrite = false, metrics = "csv",
    progress = "auto", quiet = false, on_log = false, input = "set", accuracy = false,
  }

  --- mpm.finetune.inputs(batch) -> [T, 15]: the features and one-hot particle type of every
  --- constituent, what a head reads when there is no backbone.
  function finetune.inputs(batch)
    return mpm.cat({ batch.features, batch.types:one_hot(8):float() }, 2)
  end

  -- The network of a run: backbone then head. input "set": the head reads the backbone's output
  -- with registers and its offsets (set-level heads); "particles": the particle outputs with the
  -- registers removed and the batch's offsets (per-particle heads: PerTrackMLP, EdgeHead).
  local function network(backbone, head, input)
    return function(batch, frozen)
      if not backbone then return head(finetune.inputs(batch), batch.offsets) end
      local encode = input == "particles"
        and function() return (backbone(batch.features, batch.types, batch.offsets)), batch.offsets end
        or function() return select(2, backbone(batch.features, batch.types, batch.offsets)) end
      local encoded, offsets
      if frozen then encoded, offsets = mpm.no_grad(encode) else encoded, offsets = encode() end
      return head(encoded, offsets)
    end
  end

  -- The loss of logits against a batch: cross-entropy with label smoothing, or for one logit a
  -- BCE whose 0/1 targets are moved towards 1/2 by a random amount up to bce_smoothing.
  local function loss_function(o)
    if type(o.loss) == "function" then return o.loss end
    if o.loss == "cross_entropy" then
      return function(logits, batch)
        return mpm.nn.functional.cross_entropy(logits, batch.labels, { label_smoothing = o.label_smoothing })
      end
    elseif o.loss == "bce" then
      return function(logits, batch)
        local target = batch.labels:float() - 1
        if o.bce_smoothing > 0 then
          local amount = mpm.rand(target:size(1)) * o.bce_smoothing
          target = target * (1 - amount) + (1 - target) * amount
        end
        return mpm.nn.functional.binary_cross_entropy_with_logits(logits:reshape(-1), target)
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

  local function check(options)
    local o = mpm.check_options("finetune", options, defaults, 3)
    local function fail(message) error("finetune: " .. message, 3) end
    if math.type(o.steps) ~= "integer" or o.steps < 1 then fail("steps must be a positive integer") end
    if o.input ~= "set" and o.input ~= "particles" then
      fail(("input must be 'set' or 'particles', got '%s'"):format(tostring(o.input)))
    end
    if o.accuracy and type(o.accuracy) ~= "function" then fail("accuracy must be false or function(logits, batch) -> correct, count") end
    if o.mode ~= "finetune" and o.mode ~= "frozen" and o.mode ~= "full" then
      fail(("mode must be 'finetune', 'frozen' or 'full', got '%s'"):format(tostring(o.mode)))
    end
    if not mpm.nn.is_module(o.head) then fail("head must be a module (mpm.nn.ClassAttentionClassifier(...))") end
    if o.backbone and not mpm.nn.is_module(o.backbone) then fail("backbone must be a module or false") end
    if o.mode == "frozen" and not o.backbone then fail("mode 'frozen' needs a backbone") end
    if o.resume and not o.out then fail("resume needs out (the run directory holding checkpoint.h5)") end
    if o.patience and (math.type(o.patience) ~= "integer" or o.patience < 1) then fail("patience must be a positive integer or false") end
    -- Sizes scaled to the run (MPMv2: 10k warm-up, unfreeze at 5k, catch up over 5k of 200k).
    o.warmup = o.warmup or math.max(1, o.steps // 10)
    o.unfreeze_at = o.unfreeze_at or math.max(1, o.steps // 10)
    o.catchup = o.catchup or math.max(1, o.steps // 10)
    o.val_every = o.val_loader and (o.val_every or math.max(1, o.steps // 10)) or nil
    return o
  end

  local function trainable(o, step)
    return o.backbone and (o.mode == "full" or (o.mode == "finetune" and step >= o.unfreeze_at))
  end

  -- Correct predictions and their number in a batch of jet labels (one logit: > 0 is class 2).
  local function class_accuracy(logits, batch)
    local predicted = logits:size(2) == 1 and (logits:reshape(-1):gt(0):long() + 1) or logits:argmax(2)
    return predicted:eq(batch.labels):sum():item(), batch.labels:size(1)
  end

  local function clone_state(m) local sd = {}; for k, t in pairs(m:state_dict()) do sd[k] = t:clone() end; return sd end

  --- mpm.finetune.run{head=, loader=, steps=, backbone=, mode="finetune", ...} -> result
  --- Options (defaults): backbone (a module or false: head only, on finetune.inputs), mode
  --- ("finetune", "frozen", "full"), loss ("cross_entropy" with label_smoothing 0.1, "bce" with
  --- targets smoothed by up to bce_smoothing 0.05, or function(logits, batch) -> loss), lr (1e-4),
  --- weight_decay (1e-5), warmup (steps/10), final_lr (1e-3 of lr), clip (1.0), unfreeze_at
  --- (steps/10), catchup (steps/10), val_loader, val_every (steps/10), val_batches (all), log_every (steps/50),
  --- patience (5 validations; false: no early stopping), keep_best (true), out, resume,
  --- overwrite, metrics ("csv"/"jsonl"), progress, quiet, on_log, input ("set": the head gets
  --- the backbone output with registers and its offsets; "particles": the particle outputs,
  --- registers removed, and batch.offsets, for per-particle heads such as mpm.nn.PerTrackMLP and
  --- mpm.nn.EdgeHead), accuracy (function(logits, batch) -> correct, count for the validation
  --- accuracy; default: the jet labels).
  --- result = {step, first_loss, last_loss, best = {loss, step, accuracy}, val, elapsed,
  --- steps_per_second, stopped_early, metrics, checkpoint, predict = function(batch) -> logits}.
  function finetune.run(options)
    local o = check(options)
    if not o.out or (train.sharded(o.loader) and not dist.is_main()) then return finetune._run(o) end
    return train.claim(o.out, function()
      train.check_fresh(o.out, o)
      return finetune._run(o)
    end)
  end

  function finetune._run(o)
    local head, backbone = o.head, o.backbone
    local forward, loss_of = network(backbone, head, o.input), loss_function(o)
    local accuracy_of = o.accuracy or class_accuracy
    local groups = { { params = head:parameters() } }
    if backbone and o.mode ~= "frozen" then groups[2] = { params = backbone:parameters() } end
    local params = mpm.nn.utils.parameters_of({ head, backbone and o.mode ~= "frozen" and backbone or false })
    local opt = mpm.optim.AdamW(groups, { lr = o.lr, weight_decay = o.weight_decay })
    local parallel = train.sharded(o.loader)
    local main = not parallel or dist.is_main()
    -- Every rank starts from rank 0's weights (a random-init backbone differs per rank).
    if parallel then dist.broadcast_(mpm.nn.utils.parameters_of({ head, backbone or nil }), 0) end
    local head_factor, backbone_factor = finetune.schedule(o)
    local sched = mpm.optim.lr_scheduler.LambdaLR(opt, { lambda = { head_factor, backbone_factor } })
    local generator = mpm.default_generator()
    local best = { loss = math.huge, step = 0, bad = 0 }
    local function set_frozen(step)
      if backbone then backbone:requires_grad_(trainable(o, step) and true or false) end
    end

    local checkpoint = o.out and train.Checkpoint {
      path = files.join(o.out, "checkpoint.h5"), format = "mpm-finetune-checkpoint",
      optional = { backbone = true, best = true },
      parts = { head = head, backbone = backbone or nil, optim = opt, sched = sched,
        rng = train.state_of(function() return generator:get_state() end, function(s) generator:set_state(s) end),
        best = train.state_of(function() return best end, function(s) best = s end) },
    }
    local start, stream = 0, nil
    if o.resume then
      local ck = checkpoint:load()
      checkpoint:restore(ck)
      start = ck.step
      stream = train.Stream(o.loader, ck.epoch, ck.batch_index)
    else
      stream = train.Stream(o.loader, 1, 0)
    end
    local progress = train.Progress(main and o.progress or "none", o.quiet)
    local metrics_path = o.out and main and files.join(o.out, "metrics." .. o.metrics) or nil
    local columns = { "step", "epoch", "time", "lr", "backbone_lr", "grad_norm", "loss", "val_loss", "val_accuracy" }
    local metrics = metrics_path and train.Metrics(metrics_path, o.metrics, columns, o.resume and start or nil) or nil
    progress:say(("finetune: head %s parameters, backbone %s (%s), steps %d%s"):format(
      tostring(head:num_parameters()), backbone and tostring(backbone:num_parameters()) or "none", o.mode, o.steps,
      start > 0 and (" (resuming after step " .. start .. ")") or ""))

    local function validate()
      local correct, count = 0, 0
      local val = train.validate { loader = o.val_loader, batches = o.val_batches, modules = { head, backbone },
        generator = generator, evaluate = function(batch)
          local logits = forward(batch, true)
          local c, n = accuracy_of(logits, batch)
          correct, count = correct + c, count + n
          return loss_of(logits, batch)
        end }
      if val then val.accuracy = correct / math.max(count, 1) end
      return val
    end

    local t0 = mpm.clock()
    local summary, err = train.loop {
      start = start, steps = o.steps, progress = progress, log_every = o.log_every or math.max(1, o.steps // 50),
      val_every = o.val_every, checkpoint_every = o.val_every or math.max(1, o.steps // 5), val_names = { "accuracy" },
      step = function(step)
        set_frozen(step - 1)
        local batch = stream:next()
        opt:zero_grad()
        -- Ranks start from one generator state: keyed by (seed, step, rank), dropout and BCE
        -- smoothing differ across ranks, and a resume stays exact.
        if parallel then generator:manual_seed(((o.loader.seed or 0) * 1000003 + step) * 4096 + dist.rank()) end
        local loss = loss_of(forward(batch, not trainable(o, step - 1)), batch)
        local v = train.check_loss(step, "head", loss)
        if parallel then
          -- The losses are means over jets (over tracks for per-particle heads).
          local active = mpm.nn.utils.parameters_of({ head, trainable(o, step - 1) and backbone or nil })
          v = train.average_ranks(batch, loss, {}, {}, active, o.input == "particles" and batch.num_particles or batch.batch_size)
        else
          loss:backward()
        end
        local grad_norm = train.optimizer_step { step = step, params = params, optimizer = opt, schedule = sched,
          clip = o.clip, names = "head" }
        return { loss = v, grad_norm = grad_norm }
      end,
      validate = function(step)
        local val = validate()
        if val and val.loss < best.loss then
          best = { loss = val.loss, step = step, bad = 0, accuracy = val.accuracy, head = clone_state(head),
            backbone = backbone and clone_state(backbone) or nil }
        elseif val then
          best.bad = best.bad + 1
        end
        return val
      end,
      stop = function(_, val) return val ~= nil and o.patience and best.bad >= o.patience end,
      row = function(step)
        return { step = step, epoch = stream.epoch, time = mpm.clock() - t0, lr = opt.param_groups[1].lr,
          backbone_lr = opt.param_groups[2] and opt.param_groups[2].lr or nil }
      end,
      metrics = metrics, on_log = o.on_log or nil,
      checkpoint = checkpoint and main and function(step)
        checkpoint:save { step = step, epoch = stream.epoch, batch_index = stream.index, elapsed = mpm.clock() - t0 }
      end,
    }
    stream:close()
    if metrics then metrics:close() end
    if err then error(err, 0) end
    if backbone then backbone:requires_grad_(true) end
    if o.keep_best and best.head then
      head:load_state_dict(best.head)
      if backbone and best.backbone then backbone:load_state_dict(best.backbone) end
    end
    head:eval()
    if backbone then backbone:eval() end
    progress:say(("finetune: %d steps (%.2f steps/s)%s%s"):format(summary.step - start, summary.steps_per_second,
      summary.stopped and ", stopped early" or "",
      best.head and (", best validation loss %.4f (accuracy %.4f) at step %d"):format(best.loss, best.accuracy, best.step) or ""))
    return {
      step = summary.step, first_loss = summary.first_loss, last_loss = summary.last_loss, val = summary.val,
      best = best.head and { loss = best.loss, step = best.step, accuracy = best.accuracy } or nil,
      elapsed = summary.elapsed, steps_per_second = summary.steps_per_second, stopped_early = summary.stopped or false,
      metrics = metrics_path, checkpoint = checkpoint and checkpoint.path,
      predict = function(batch) return mpm.no_grad(forward, batch, true) end,
    }
  end

  --- mpm.finetune.predict(predict, loader) -> scores [N, C] (probabilities; one column for a
  --- binary head), labels [N] (1-based), jet_indices [N]: a whole loader through a trained
  --- network (result.predict), in eval mode without gradients.
  function finetune.predict(predict, loader)
    local scores, labels, indices = {}, {}, {}
    train.each_batch(loader, 1, math.huge, function(batch)
      local logits = predict(batch)
      scores[#scores + 1] = logits:size(2) == 1 and logits:sigmoid() or mpm.softmax(logits, 2)
      labels[#labels + 1] = batch.labels
      indices[#indices + 1] = batch.jet_indices
    end)
    if #scores == 0 then error("finetune.predict: the loader yields no batches", 2) end
    return mpm.cat(scores, 1), mpm.cat(labels, 1), mpm.cat(indices, 1)
  end

  --- mpm.finetune.save_predictions(path, scores, labels [, extra]): an HDF5 file for h5py with
  --- `scores` [N, C], `labels` [N] and `jet_indices` [N] in the data files' 0-based numbering
  --- (attribute `label_base` = 0), plus the fields of extra (class names, ...).
  function finetune.save_predictions(path, scores, labels, extra)
    local record = { scores = scores, labels = labels - 1, label_base = 0 }
    for k, v in pairs(extra or {}) do
      if k == "jet_indices" and mpm.is_tensor(v) then v = v - 1 end
      record[k] = v
    end
    mpm.save(path, record)
  end

  mpm.finetune = finetune
end
