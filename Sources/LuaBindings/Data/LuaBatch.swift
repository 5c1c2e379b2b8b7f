import JetData
import Tensors

/// A packed batch as Lua sees it: the Swift `SetBatch` (0-based codes, as in the files) plus the
/// 1-based tensors handed to Lua, made once per batch on first use so repeated reads of
/// `batch.types` return the same tensor.
final class LuaBatch {
    let batch: SetBatch
    /// The masking split: the loader's, or one made later by `mpm.data.mask`.
    var split: MaskSplit?
    private var cache: [String: Tensor] = [:]

    init(_ batch: SetBatch, split: MaskSplit? = nil) {
        self.batch = batch
        self.split = split ?? batch.masking
    }

    /// `t` with every code shifted to 1-based, cached under `key`.
    func oneBased(_ key: String, _ t: Tensor) throws -> Tensor {
        if let done = cache[key] { return done }
        let shifted = try IndexBase.zero.rebase(t, to: .one)
        cache[key] = shifted
        return shifted
    }
}
