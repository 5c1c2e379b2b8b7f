-- Run under mpirun by DistributedTests: a user's mistake on every rank. "same": every rank
-- refuses the same input (one line from rank 0 expected); "different": each rank its own
-- message (rank 0's line, then rank 1's with its label).
local d = mpm.distributed
local kind = arg[1]
if kind == "same" then
  error("--data: no such file nosuch.h5", 0)
elseif kind == "different" then
  error(("--data: shard %d is missing"):format(d.rank()), 0)
end
