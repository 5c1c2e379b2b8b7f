-- train.Stream: a loader's batches in epoch order with their position (epoch, batches taken in
-- it), so that a resumed run continues from the very next batch.
local stream = {}

local Stream = {}
Stream.__index = Stream

--- train.Stream(loader [, epoch=1, index=0]) -> stream; stream:next() -> batch (moving on to
--- the next epoch when one ends); stream.epoch, stream.index; stream:close().
function stream.Stream(loader, epoch, index)
  return setmetatable({ loader = loader, epoch = epoch or 1, index = index or 0 }, Stream)
end

local function close_iteration(iteration)
  local mt = getmetatable(iteration)
  if type(mt) == "table" and mt.__close then mt.__close(iteration) end
end

function Stream:close()
  if self.iteration then
    close_iteration(self.iteration)
    self.iteration = nil
  end
end

function Stream:next()
  for _ = 1, 2 do
    if not self.iteration then
      self.iteration = self.loader:iter(self.epoch)
      for i = 1, self.index do
        if self.iteration() == nil then
          error(("train: resume: epoch %d has fewer than %d batches"):format(self.epoch, i), 0)
        end
      end
    end
    local batch = self.iteration()
    if batch ~= nil then
      self.index = self.index + 1
      return batch
    end
    self:close()
    if self.index == 0 then break end
    self.epoch, self.index = self.epoch + 1, 0
  end
  error("train: the loader yields no batches", 0)
end

--- train.each_batch(loader, epoch, limit, fn): calls fn(batch) for the first `limit` batches
--- of one epoch, closing the loader's iteration even when fn fails.
function stream.each_batch(loader, epoch, limit, fn)
  local iteration = loader:iter(epoch)
  local ok, err = pcall(function()
    for _ = 1, limit do
      local batch = iteration()
      if batch == nil then break end
      fn(batch)
    end
  end)
  close_iteration(iteration)
  if not ok then error(err, 0) end
end

return stream
