-- Exploring a backbone's embeddings (docs/explore.md is the same walk in the REPL): one vector
-- per jet, then what the embedding space looks like: PCA, nearest neighbours, a linear probe,
-- distances between classes, plots, and the pre-trained backbone against a random one.
--
--   mpmlua examples/explore.lua [--backbone runs/cfm/backbone.h5] [--data data/jetclass_test.h5] [--out runs/explore]
--   (the default backbone is the one `make demo` trains)
--
-- Writes OUT/embeddings.h5 (h5py: f["vectors"], f["labels"], ...), OUT/pca.png, OUT/mass.png.
local o = mpm.cli.options(arg, {
  { "backbone", "runs/cfm/backbone.h5", "string", "the backbone file to explore" },
  { "data", "data/jetclass_test.h5", "string", "jets to embed" },
  { "out", "runs/explore", "string", "folder of the embeddings and plots" },
}, "mpmlua examples/explore.lua [options]")
if o == nil then return end
local backbone, data = o.backbone, o.data
local out = mpm.files.mkdir(o.out)
if not mpm.files.exists(backbone) then
  print("explore: no backbone at " .. backbone .. " (run `make demo` first, or pass one)")
  return
end

-- One vector per jet: the backbone's particle outputs averaged over each jet.
local E = mpm.explore.embed(backbone, data)
print(E)

-- Principal components: how many directions carry the variance?
local P, explained = E:pca(5)
print("explained variance of the first 5 components:", explained)

-- The jets nearest to jet 1, and their classes.
local idx, dist = E:neighbours(1, 5)
print(("jet 1 is %s; its 5 nearest neighbours:"):format(E.classes[E.labels[1]:item()]))
for r = 1, 5 do
  local j = idx[r]:item()
  print(("  jet %4d  %-10s  cosine distance %.4f"):format(j, E.classes[E.labels[j]:item()], dist[r]:item()))
end

-- A linear probe: how much of the class is linearly readable from the embedding?
print(E:probe())

-- Mean distances within and between classes.
local _, summary = E:class_distances()
print(summary)

-- A subset: the Higgs classes only.
print(E:select { "HToBB", "HToCC", "HToGG", "HToWW4Q", "HToWW2Q1L" })

-- Plots: the PCA view coloured by class, and the jet mass per class.
print(E:plot { out = mpm.files.join(out, "pca.png") })
print(mpm.plot.hist { values = E.mass, groups = E.labels, names = E.classes, out = mpm.files.join(out, "mass.png"),
  xlabel = "jet mass [GeV]", title = "jet mass by class" })

-- Saved for later (mpm.explore.load) or for h5py.
E:save(mpm.files.join(out, "embeddings.h5"))

-- The pre-trained backbone against a random one of the same size, on the same jets.
print(mpm.explore.compare({ backbone, "random" }, data))
