-- mpm.linalg, the Lua half: pairwise distances on top of matmul (one BLAS sgemm). The
-- decompositions (eigh, svd) are LAPACK calls registered from Swift (LinalgBinding.swift).
return function(mpm)
  local linalg = mpm.linalg

  local metrics = { euclidean = true, sqeuclidean = true, cosine = true }

  --- mpm.linalg.cdist(a, b [, {metric="euclidean"}]) -> [n, m] distances between the rows of
  --- a [n, D] and b [m, D]: "euclidean", "sqeuclidean" (squared) or "cosine" (1 - cosine
  --- similarity). Computed as |a|^2 + |b|^2 - 2 a b^T (one matrix product) on rows centred on
  --- a's mean, so nearby points keep their precision; small negative rounding is clamped to 0.
  ---   local d = mpm.linalg.cdist(mpm.randn(100, 8), mpm.randn(5, 8))     -- [100, 5]
  function linalg.cdist(a, b, options)
    local o = mpm.check_options("linalg.cdist", options, { metric = "euclidean" }, 2)
    if not metrics[o.metric] then
      error(("linalg.cdist: metric must be euclidean, sqeuclidean or cosine, got %s"):format(tostring(o.metric)), 2)
    end
    if not (mpm.is_tensor(a) and mpm.is_tensor(b)) then error("linalg.cdist: a and b must be tensors", 2) end
    if a:dim() ~= 2 or b:dim() ~= 2 or a:size(2) ~= b:size(2) then
      error(("linalg.cdist: a and b must be [n, D] and [m, D], got %s and %s"):format(
        table.concat(a:shape(), "x"), table.concat(b:shape(), "x")), 2)
    end
    a, b = a:float(), b:float()
    if o.metric == "cosine" then
      local an = a / a:norm(2, 2, true):clamp(1e-12)
      local bn = b / b:norm(2, 2, true):clamp(1e-12)
      return (1 - an:matmul(bn:t())):clamp(0, 2)
    end
    local centre = a:mean(1, true)
    a, b = a - centre, b - centre
    local d2 = (a:square():sum(2, true) + b:square():sum(2, true):t() - a:matmul(b:t()) * 2):clamp(0)
    if o.metric == "sqeuclidean" then return d2 end
    return d2:sqrt()
  end
end
