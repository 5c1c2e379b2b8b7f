-- Run under mpirun by DistributedTests: rank 1 fails (a Lua error, or a NaN loss through the
-- trainer's check) while rank 0 waits in an allreduce; the host must report "rank 1: ..." and
-- end the whole job.
local d = mpm.distributed
d.barrier()
if d.rank() == 1 then
  if arg[1] == "nan" then mpm.train.check_loss(3, "cfm", mpm.tensor { 0 / 0 }) end
  error("failing on purpose")
end
d.allreduce_(mpm.zeros(4)) -- rank 0 would wait here forever
print("fail.lua: rank 0 was not stopped")
