-- Trains the VQ-VAE particle tokenizer on its own (MPMv1's tokenizer, the target of the VQVAE
-- task): transformer encoder -> 32-d latent -> cosine-similarity codebook -> transformer
-- decoder, MSE reconstruction + codebook + 0.25 commitment loss, codebook initialised by
-- k-means and dead codes reset. Then pre-train on its codes with
--   mpmlua examples/train_vqvae.lua --out runs/tokenizer.h5
--   mpmlua examples/pretrain.lua --task vqvae --tokenizer runs/tokenizer.h5
local spec = {
  { "data", "data/jetclass_train.h5", "string", "training jets" },
  { "steps", 600, "integer", "training steps" },
  { "batch-size", 64, "integer", "jets per batch" },
  { "lr", 1e-3, "number", "learning rate (AdamW)" },
  { "seed", 1, "integer", "seed" },
  { "preset", "small", "string", "tokenizer size of a preset: small (D=64 x 2 layers) or paper (D=128 x 3 layers)" },
  { "codebook-size", 512, "integer", "codes" },
  { "reset-every", 50, "integer", "reset dead codes every N steps" },
  { "preprocessing", "", "string", "fitted preprocessing file (default: fit and save next to --out)" },
  { "preprocessing-jets", 2000, "integer", "jets the preprocessing is fitted on" },
  { "out", "runs/tokenizer.h5", "string", "where the tokenizer is written" },
}
local o = mpm.cli.options(arg, spec, "mpmlua examples/train_vqvae.lua [options]")
if o == nil then return end

mpm.manual_seed(o.seed)
local dir = mpm.files.dirname(o.out)
assert(mpm.files.mkdir(dir))
local ds = mpm.data.open(o.data)
local pre = mpm.data.preprocessing { file = o.preprocessing, fit_on = ds, jets = o.preprocessing_jets,
  save = mpm.files.join(dir, "tokenizer_preprocessing.h5") }
local loader = ds:loader { batch_size = o.batch_size, shuffle = true, seed = o.seed, preprocessing = pre, drop_last = true }
local preset, why = mpm.tasks.preset(o.preset)
if not preset then error("--preset: " .. why, 0) end
local config = preset.tokenizer
config.codebook_size = o.codebook_size
local tok = mpm.tasks.VQTokenizer.fit(loader, { steps = o.steps, lr = o.lr, reset_every = o.reset_every, config = config })
tok:save(o.out)

-- How much of the codebook the trained tokenizer uses on a few batches.
local used, total = {}, 0
local n = 0
for batch in loader:iter(1) do
  local codes = tok:codes(batch):tolist()
  for _, c in ipairs(codes) do used[c] = true end
  total = total + #codes
  n = n + 1
  if n == 5 then break end
end
local distinct = 0
for _ in pairs(used) do distinct = distinct + 1 end
print(("train_vqvae: %d of %d codes used by %d particles; tokenizer written to %s"):format(distinct, o.codebook_size, total, o.out))
