-- docs/explore.md's REPL transcript runs as written on a fresh clone: every `> ` line of it is
-- fed to `mpmlua -i` in an empty folder holding only data/ and a backbone at
-- runs/cfm/backbone.h5 (a tiny random one in place of `make demo`'s: the lines are tested,
-- not the numbers). No line may fail, and the files it writes under runs/explore (a folder
-- that does not exist before) must be there.
local T = require "mpm.testing"
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
-- The session runs in another folder: every path it is given must be absolute.
if root:sub(1, 1) ~= "/" then root = os.getenv("PWD") .. "/" .. root end
local bin = os.getenv("MPMLUA_BIN") or (root .. "/.build/release/mpmlua")
local quote = mpm.files.quote
if not mpm.files.exists(bin) then
  print("explore_transcript.lua: SKIPPED: no mpmlua binary at " .. bin .. " (set MPMLUA_BIN)")
  return
end

local dir = os.tmpname()
os.remove(dir)
mpm.files.mkdir(dir .. "/runs/cfm")
local function path(name) return dir .. "/" .. name end
assert(os.execute(("ln -s %s %s"):format(quote(root .. "/data"), quote(path("data")))))

local jets = mpm.data.open(root .. "/data/jetclass_train.h5")
jets:fit_preprocessing { jets = 300 }:save(path("runs/cfm/preprocessing.h5"))
mpm.manual_seed(1)
mpm.MPM { preset = "tiny" }:save_backbone(path("runs/cfm/backbone.h5"), { preprocessing = path("runs/cfm/preprocessing.h5") })

-- The transcript's input lines, as a user would type them.
local lines, inside = {}, false
for line in io.lines(root .. "/docs/explore.md") do
  if line == "```" then inside = not inside
  elseif inside and line:sub(1, 2) == "> " then lines[#lines + 1] = line:sub(3)
  end
end
T.equal(#lines > 15, true, "the transcript has its lines")
mpm.files.write(path("session.txt"), table.concat(lines, "\n") .. "\n")

local ok = os.execute(("cd %s && MPMLUA_PATH=%s MPMLUA_PLOT_TERMINAL=none %s -i < session.txt > output.txt 2>&1"):format(
  quote(dir), quote(root .. "/lua"), quote(bin)))
local output = io.open(path("output.txt")):read("a")
T.equal(ok, true, "mpmlua -i exits 0:\n" .. output)
T.equal(output:find("stdin:%d+:"), nil, "no line of the transcript fails:\n" .. output)
T.equal(output:find('"HToWW2Q1L"', 1, true) ~= nil, true, "E.classes[E.labels[1]] names the class:\n" .. output)
T.equal(output:find('"runs/explore/pca.png"', 1, true) ~= nil, true, "E:plot wrote into the missing folder:\n" .. output)
for _, name in ipairs { "pca.png", "mass.png", "embeddings.h5" } do
  T.equal(mpm.files.exists(path("runs/explore/" .. name)), true, "runs/explore/" .. name .. " written")
end

os.execute("rm -rf " .. quote(dir))
