-- Run under mpirun by DistributedTests: Open MPI gives the ranks' standard output a terminal,
-- yet "auto" progress must write plain lines (no carriage return, no escape code) to a job's log.
local progress = require "mpm.progress"
local line = progress.new("auto")
line:log("step 1/3")
line:tick(function() return "step 2/3" end)
line:log("step 3/3", true)
line:say(("rank %d: stdout is a terminal: %s"):format(mpm.distributed.rank(), tostring(mpm.files.isatty(1))))
