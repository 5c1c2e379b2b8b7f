-- Fault: the disk fills up while a checkpoint or dataset is written (docs/reliability.md,
-- "Atomic files"). Before: a multi-line HDF5 report, then a segfault at exit (rc 139, in
-- H5_term_library -> H5F__close_cb) even inside pcall, because the file HDF5 could not flush
-- stayed registered with the library. Now: one line naming the file and the cause, the
-- previous file untouched, no temporary file left, and the process exits normally.
-- Needs root to mount a 2 MB tmpfs; prints "disk_full: skipped (...)" otherwise.
-- usage: mpmlua tools/faults/disk_full.lua [--short]
local T = require "mpm.testing"

local function sh(cmd)
  local h = io.popen(cmd .. " 2>&1")
  local out = h:read("a")
  local ok, _, code = h:close()
  return ok, out, code
end
local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local _, uid = sh("id -u")
if tonumber(uid) ~= 0 then
  print("disk_full: skipped (needs root to mount a small tmpfs)")
  return
end
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. quote(dir)))
local mounted, why = sh("mount -t tmpfs -o size=2m tmpfs " .. quote(dir))
if not mounted then
  os.remove(dir)
  print("disk_full: skipped (mount -t tmpfs failed: " .. why:gsub("\n", " ") .. ")")
  return
end

local function checks()
  local path = dir .. "/x.h5"
  local big = { w = mpm.zeros(1024, 1024) }    -- 4 MB: does not fit

  -- A checkpoint: the previous file at the path stays as it was.
  mpm.save(path, { w = mpm.ones(4), step = 7 })
  local previous = read_all(path)
  local ok, err = pcall(mpm.save, path, big)
  T.equal(ok, false, "saving 4 MB to a 2 MB disk fails")
  T.equal(err, "mpm.save: " .. path .. ": no space left on device", "the error names the file and the cause")
  T.equal(read_all(path) == previous, true, "the previous file is unchanged")
  T.equal(mpm.load(path).step, 7, "and still loads")
  local _, listing = sh("ls -A " .. quote(dir))
  T.equal(listing, "x.h5\n", "no temporary file is left")

  -- A dataset written by mpm.data.write fails the same way.
  local dok, derr = pcall(mpm.data.write, dir .. "/d.h5", { x = mpm.randn(1024, 1024) })
  T.equal(dok, false, "writing a dataset to a full disk fails")
  T.equal(tostring(derr):find(dir .. "/d.h5: no space left on device", 1, true) ~= nil, true,
    "the dataset error names the file and the cause: " .. tostring(derr))
  T.equal(select(2, tostring(derr):gsub("\n", "")), 0, "in one line")
  _, listing = sh("ls -A " .. quote(dir))
  T.equal(listing, "x.h5\n", "still no temporary file")

  -- A fresh process doing the failing save exits normally (the crash was at exit).
  local host = arg and arg[-1] or "mpmlua"
  local code = ("print(pcall(mpm.save, %q, {w = mpm.zeros(1024, 1024)}))"):format(path)
  local child_ok, out, rc = sh(quote(host) .. " -e " .. quote(code))
  T.equal(rc, 0, "the child's exit code (was 139, a segfault at exit); output: " .. out)
  T.equal(child_ok, true, "the child exits normally")
  T.equal(out, "false\tmpm.save: " .. path .. ": no space left on device\n", "the child prints one line")
end

local ok, err = pcall(checks)
sh("umount " .. quote(dir))
os.remove(dir)
if not ok then error(err, 0) end
print("disk_full: ok")
