import Foundation
@testable import JetData

/// Small jet files in the reference padded layout, written by the tests themselves, with the
/// arrays kept for comparison. Constituents are pt-descending, neutral particles have zero
/// impact parameters, padding is zeros (-1 for vertex ids and track types), as in MPMv2.
struct ReferenceJets {
    var kind: JetKind
    var n: Int
    var p: Int
    var csts: [Float]
    var ids: [Int64]
    var mask: [Bool]
    var labels: [Int64]
    var jets: [Float]
    var vtx: [Int64]
    var trk: [Int64]

    /// Deterministic pseudo-random jets; `counts` real particles each (some jets may be empty).
    init(kind: JetKind, n: Int, p: Int, seed: UInt64, emptyJets: Bool = true) {
        var rng = SplitMixForTests(seed)
        self.kind = kind
        self.n = n
        self.p = p
        csts = [Float](repeating: 0, count: n * p * 7)
        ids = [Int64](repeating: 0, count: n * p)
        mask = [Bool](repeating: false, count: n * p)
        labels = (0..<n).map { _ in Int64(rng.below(kind == .jetclass ? 10 : 3)) }
        jets = [Float](repeating: 0, count: n * 5)
        vtx = kind == .btag ? [Int64](repeating: -1, count: n * p) : []
        trk = kind == .btag ? [Int64](repeating: -1, count: n * p) : []
        for j in 0..<n {
            let count = emptyJets ? Int(rng.below(UInt64(p + 1))) : 1 + Int(rng.below(UInt64(p)))
            var pt = Float(50 + rng.uniform() * 400)
            for s in 0..<count {
                let slot = j * p + s
                let type = kind == .btag ? [1, 3, 4, 5, 6, 7][Int(rng.below(6))] : Int64(rng.below(8))
                ids[slot] = Int64(type)
                mask[slot] = true
                pt *= Float(0.5 + 0.5 * rng.uniform())
                let neutral = type == 0 || type == 2
                let values: [Float] = [max(pt, 0.01), Float(rng.uniform() * 1.6 - 0.8), Float(rng.uniform() * 1.6 - 0.8),
                                       neutral ? 0 : Float(rng.normal() * 0.05), neutral ? 0 : Float(0.01 + rng.uniform() * 0.02),
                                       neutral ? 0 : Float(rng.normal() * 0.08), neutral ? 0 : Float(0.02 + rng.uniform() * 0.03)]
                for k in 0..<7 { csts[slot * 7 + k] = values[k] }
                if kind == .btag {
                    vtx[slot] = Int64(rng.below(3))
                    trk[slot] = Int64(rng.below(4))
                }
            }
            jets[j * 5 + 0] = Float(500 + rng.uniform() * 500)
            jets[j * 5 + 1] = Float(rng.uniform() * 4 - 2)
            jets[j * 5 + 2] = Float(rng.uniform() * 6.28 - 3.14)
            jets[j * 5 + 3] = Float(rng.uniform() * 200)
            jets[j * 5 + 4] = Float(count)
        }
    }

    /// Real particles of jet j.
    func count(_ j: Int) -> Int { mask[(j * p)..<((j + 1) * p)].filter { $0 }.count }

    /// Writes the file; `skip` leaves datasets out, `replace` writes a dataset differently.
    func write(to path: String, skip: Set<String> = [], kindAttribute: Bool = true, chunkRows: Int? = 16,
               replace: ((H5File) throws -> Void)? = nil) throws {
        try H5File.createAtomically(path) { f in
            let o = H5WriteOptions(chunkRows: chunkRows, gzipLevel: 4)
            if !skip.contains("csts") { try f.write("csts", csts, shape: [n, p, 7], options: o) }
            if !skip.contains("csts_id") { try f.write("csts_id", ids, shape: [n, p], options: o) }
            if !skip.contains("mask") { try f.write("mask", mask, shape: [n, p], options: o) }
            if !skip.contains("labels") { try f.write("labels", labels, shape: [n], options: o) }
            if !skip.contains("jets") { try f.write("jets", jets.map(Double.init), shape: [n, 5], options: o) }
            if kind == .btag {
                if !skip.contains("vtx_id") { try f.write("vtx_id", vtx, shape: [n, p], options: o) }
                if !skip.contains("track_type") { try f.write("track_type", trk, shape: [n, p], options: o) }
            }
            if kindAttribute { try f.setAttribute("kind", .string(kind.rawValue)) }
            try replace?(f)
        }
    }
}

/// A tiny seedable generator for test data (independent of the code under test).
struct SplitMixForTests {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
    mutating func below(_ n: UInt64) -> UInt64 { next() % n }
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
