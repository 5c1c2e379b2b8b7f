-- mpm.train: the trainer's parts, for every training loop: train.Run (the run object: run
-- directory, checkpoints and resume, metrics, progress, ranks) and what it is made of (stream,
-- loop, checkpoint, metrics, validation), and train.run, the pre-training loop built on them
-- (train/pretraining.lua). mpm.finetune.run is the other loop; a new one needs nothing copied
-- (docs/architecture.md, "The trainer made of parts").
local stream = require "mpm.train.stream"
local loop = require "mpm.train.loop"
local checkpoint = require "mpm.train.checkpoint"
local metrics = require "mpm.train.metrics"
local validation = require "mpm.train.validation"
local run = require "mpm.train.run"
local task_set = require "mpm.train.tasks"
local pretraining = require "mpm.train.pretraining"

return {
  Run = run.Run, sharded = run.sharded, Stream = stream.Stream, each_batch = stream.each_batch,
  loop = loop.loop, check_loss = loop.check_loss, optimizer_step = loop.optimizer_step,
  Checkpoint = checkpoint.Checkpoint, state_of = checkpoint.state_of, Metrics = metrics.Metrics,
  validate = validation.validate, set_training = validation.set_training,
  task_list = task_set.list, parameters = task_set.parameters,
  run = pretraining.run, OPTIONS = pretraining.OPTIONS,
}
