-- mpm.progress: what a long job shows (a training run, an embedding pass). On a terminal one
-- line redrawn in place (at most four times a second), elsewhere (a file, a pipe, mpirun's
-- ranks) plain log lines, or nothing.
--   local progress = require "mpm.progress"
--   local p = progress.new("auto"); p:tick(function() return "step 10/100" end); p:finish()
local mpm = require "mpm.core"

local progress = {}

--- mpm.progress.format_time(seconds) -> "42s", "3m07s", "2h05m" ("?" when unknown).
---   print(mpm.progress.format_time(187))   -- 3m07s
function progress.format_time(seconds)
  if seconds ~= seconds or seconds == math.huge then return "?" end
  seconds = math.floor(seconds + 0.5)
  if seconds < 60 then return seconds .. "s" end
  if seconds < 3600 then return ("%dm%02ds"):format(seconds // 60, seconds % 60) end
  return ("%dh%02dm"):format(seconds // 3600, (seconds % 3600) // 60)
end

local Progress = {}
Progress.__index = Progress

--- mpm.progress.new(mode [, quiet]) -> progress: mode "auto" (a line redrawn in place when
--- standard output is a terminal and no launcher started this process, plain lines otherwise:
--- no carriage returns or escape codes in a log or under mpirun, whose ranks may be given a
--- terminal), "line", "plain" or "none"; quiet means "none".
--- progress:say(text) prints a whole line; progress:log(text [, keep]) shows a progress line
--- (kept on screen when keep); progress:tick(make_text) redraws the line when due;
--- progress:finish() ends an open line.
---   local p = mpm.progress.new("plain"); p:log("step 10/100"); p:say("done")
function progress.new(mode, quiet)
  if mode == "auto" then
    mode = (mpm.files.isatty(1) and not mpm.distributed.launched()) and "line" or "plain"
  end
  if quiet then mode = "none" end
  return setmetatable({ mode = mode, line_open = false, last_draw = 0 }, Progress)
end

function Progress:finish()
  if self.line_open then io.write("\n"); self.line_open = false end
end

function Progress:say(text)
  if self.mode == "none" then return end
  self:finish()
  print(text)
end

local function draw(self, text)
  io.write("\r", text, "\27[K")
  io.flush()
  self.line_open = true
  self.last_draw = mpm.clock()
end

function Progress:log(text, keep)
  if self.mode == "plain" then
    print(text)
  elseif self.mode == "line" then
    draw(self, text)
    if keep then self:finish() end
  end
end

function Progress:tick(make_text)
  if self.mode == "line" and mpm.clock() - self.last_draw > 0.25 then draw(self, make_text()) end
end

return progress
