import Foundation
import Testing
import Tensors
@testable import JetData

/// Physics checks on the bundled files (data/*.h5, made by tools/jetgen). They fail, not skip,
/// when a file is missing: the files are part of the repository.
@Suite("Physics sanity of the bundled data")
struct PhysicsSanityTests {
    struct Jets {
        var labels: [Int64] = []
        var storedMass: [Double] = []
        var constituentMass: [Double] = []
        var counts: [Int] = []
        var types: [Int64] = []
    }

    /// Every jet of the three JetClass-like splits.
    static func jetclass() throws -> Jets {
        var out = Jets()
        for split in ["train", "val", "test"] {
            let ds = try JetDataset.open(TestFiles.bundled("jetclass_\(split).h5"))
            #expect(ds.kind == .jetclass)
            let b = try ds.read(0..<ds.numJets)
            out.labels += b.labels.toInt64Array()
            let jets = b.jets.toFloatArray()
            out.storedMass += (0..<b.batchSize).map { Double(jets[$0 * 5 + 3]) }
            out.constituentMass += JetKinematics.sum(b).map(\.mass)
            out.counts += (0..<b.batchSize).map(b.count(ofJet:))
            out.types += b.types.toInt64Array()
        }
        return out
    }

    /// Centre of the most populated 10 GeV bin.
    static func massMode(_ masses: [Double]) -> Double {
        var bins = [Int](repeating: 0, count: 40)
        for m in masses where m >= 0 && m < 400 { bins[Int(m / 10)] += 1 }
        return Double(bins.firstIndex(of: bins.max()!)!) * 10 + 5
    }

    static func class_(_ name: String) -> Int64 { Int64(JetSchema.jetclassClasses.firstIndex(of: name)!) }

    @Test func massPeaks() throws {
        let j = try Self.jetclass()
        func masses(_ name: String, _ source: [Double]) -> [Double] {
            zip(j.labels, source).filter { $0.0 == Self.class_(name) }.map(\.1)
        }
        for source in [j.storedMass, j.constituentMass] {
            let top = Self.massMode(masses("TTBar", source))
            #expect(top >= 160 && top <= 190, "hadronic top mass peak at \(top) GeV")
            let w = Self.massMode(masses("WToQQ", source))
            #expect(w >= 70 && w <= 95, "W mass peak at \(w) GeV")
            let z = Self.massMode(masses("ZToQQ", source))
            #expect(z >= 80 && z <= 105, "Z mass peak at \(z) GeV")
            let h = Self.massMode(masses("HToBB", source))
            #expect(h >= 110 && h <= 140, "H -> bb mass peak at \(h) GeV")
            let qcd = masses("QCD", source)
            #expect(Self.massMode(qcd) < 100, "QCD jets peak at low mass")
            let middle = qcd.filter { $0 >= 50 && $0 < 150 }.count, high = qcd.filter { $0 >= 150 && $0 < 300 }.count
            #expect(high * 2 < middle, "QCD mass falls: \(middle) jets in 50-150 GeV, \(high) in 150-300 GeV")
        }
        // The stored jet mass is the constituents' invariant mass (up to rounding and clipping).
        let rel = zip(j.storedMass, j.constituentMass).map { abs($0 - $1) / max($0, 1) }.sorted()
        #expect(rel[rel.count / 2] < 0.03, "median relative difference \(rel[rel.count / 2])")
    }

    @Test func multiplicitiesAndParticleTypes() throws {
        let j = try Self.jetclass()
        // Mean multiplicities measured by the generator's prototype (JETGEN_FACTS.md), within 25%.
        let facts: [(String, Double)] = [("QCD", 51), ("TTBar", 64), ("WToQQ", 40), ("ZToQQ", 41),
                                         ("HToBB", 52), ("HToGG", 70), ("HToWW4Q", 59)]
        var means: [String: Double] = [:]
        for (name, expected) in facts {
            let n = zip(j.labels, j.counts).filter { $0.0 == Self.class_(name) }.map { Double($0.1) }
            let mean = n.reduce(0, +) / Double(n.count)
            means[name] = mean
            #expect(abs(mean - expected) < 0.25 * expected, "\(name) mean multiplicity \(mean), expected about \(expected)")
        }
        #expect(means["TTBar"]! > means["QCD"]! && means["QCD"]! > means["WToQQ"]!)
        #expect(j.counts.allSatisfy { $0 >= 1 && $0 <= 128 })

        var fractions = [Double](repeating: 0, count: 8)
        for t in j.types { fractions[Int(t)] += 1 }
        fractions = fractions.map { $0 / Double(j.types.count) }
        #expect(fractions[0] > 0.25 && fractions[0] < 0.5, "photon fraction \(fractions[0])")
        #expect(fractions[1] + fractions[3] > 0.4 && fractions[1] + fractions[3] < 0.65, "charged hadrons \(fractions[1] + fractions[3])")
        #expect(abs(fractions[1] - fractions[3]) < 0.02, "charge asymmetry \(fractions[1]) vs \(fractions[3])")
        #expect(fractions[2] > 0.03 && fractions[2] < 0.15, "neutral hadron fraction \(fractions[2])")
        #expect(fractions[4...7].reduce(0, +) < 0.05 && fractions[4...7].allSatisfy { $0 > 0 }, "leptons \(Array(fractions[4...7]))")
    }

    @Test func bJetTracksAreDisplaced() throws {
        var significance: [Int64: [Double]] = [:]
        var tracks: [Int64: [Int]] = [:]
        for split in ["train", "val", "test"] {
            let ds = try JetDataset.open(TestFiles.bundled("btag_\(split).h5"))
            #expect(ds.kind == .btag && ds.maxParticles == 15)
            let b = try ds.read(0..<ds.numJets)
            let f = b.features.toFloatArray(), labels = b.labels.toInt64Array(), types = b.types.toInt64Array()
            #expect(types.allSatisfy { $0 != 0 && $0 != 2 }, "BTag jets hold charged tracks only")
            for j in 0..<b.batchSize {
                tracks[labels[j], default: []].append(b.count(ofJet: j))
                for i in b.offsetsArray[j]..<b.offsetsArray[j + 1] where f[i * 7 + 4] > 0 {
                    significance[labels[j], default: []].append(abs(Double(f[i * 7 + 3] / f[i * 7 + 4])))
                }
            }
        }
        func median(_ x: [Double]) -> Double { x.sorted()[x.count / 2] }
        func above3(_ x: [Double]) -> Double { Double(x.filter { $0 > 3 }.count) / Double(x.count) }
        let light = significance[0]!, charm = significance[1]!, bottom = significance[2]!
        #expect(median(bottom) > 2 * median(light), "median |d0/sigma|: b \(median(bottom)), light \(median(light))")
        #expect(median(bottom) > median(charm) && median(charm) > median(light))
        #expect(above3(bottom) > 3 * above3(light), "tracks above 3 sigma: b \(above3(bottom)), light \(above3(light))")
        let meanTracks = tracks.mapValues { Double($0.reduce(0, +)) / Double($0.count) }
        #expect(meanTracks[2]! > meanTracks[0]!, "b jets have more tracks than light jets")
    }
}
