import Foundation
import Testing

/// mpm.distributed and data-parallel pre-training under `mpirun -n 2` (docs/distributed.md),
/// each job a child process under mpirun's own --timeout and the runHost watchdog. Skipped,
/// with a message, where Open MPI's mpirun is not installed (tools/install-deps.sh installs it).
@Suite("mpirun -n 2", .serialized)
struct DistributedTests {
    static let mpirun: String? = {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Root in containers and more ranks than cores are both normal here.
    static let environment = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                              "OMPI_MCA_rmaps_base_oversubscribe": "1"]

    static func script(_ name: String) -> String { TestPaths.root.appendingPathComponent("lua/tests/distributed/\(name)").path }

    /// `mpirun -n ranks mpmlua arguments` (ranks 0: the host alone, without MPI).
    static func run(ranks: Int, _ arguments: [String], timeout: Int = 90) throws -> (RunResult, Double) {
        let start = Date()
        let result: RunResult
        if ranks == 0 {
            result = try runHost(arguments, environment: environment, timeoutSeconds: Double(timeout))
        } else {
            result = try runHost(["--oversubscribe", "--timeout", "\(timeout)", "-n", "\(ranks)", TestPaths.binary] + arguments,
                                 environment: environment, timeoutSeconds: Double(timeout + 15), executable: mpirun!)
        }
        return (result, Date().timeIntervalSince(start))
    }

    static func skipped() -> Bool {
        if mpirun == nil { print("DistributedTests: skipped (mpirun not found; install openmpi-bin, see tools/install-deps.sh)") }
        return mpirun == nil
    }

    static func report(_ r: RunResult) -> String { "exit \(r.status)\n\(r.output.suffix(2000))\n\(r.error.suffix(3000))" }

    /// A protocol sweep under mpirun: the runs are dealt out over the ranks and rank 0 writes one
    /// CSV with every run; each run directory was written by exactly one rank.
    @Test func sweepSpreadsItsRunsOverTheRanks() throws {
        if Self.skipped() { return }
        let dir = NSTemporaryDirectory() + "mpmlua-mpi-sweep-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = { (name: String) in TestPaths.root.appendingPathComponent("data/\(name)").path }
        let (r, _) = try Self.run(ranks: 2, [TestPaths.root.appendingPathComponent("examples/btag.lua").path, "--sweep",
            "--backbones", "random", "--sizes", "64,128", "--seeds", "1,2", "--preset", "tiny", "--epochs", "1",
            "--batch-size", "32", "--val-jets", "64", "--quiet", "--out", dir, "--data", data("btag_train.h5"),
            "--val", data("btag_val.h5"), "--test", data("btag_test.h5")], timeout: 120)
        #expect(r.status == 0, "\(Self.report(r))")
        let csv = (try? String(contentsOfFile: dir + "/sweep.csv", encoding: .utf8)) ?? ""
        #expect(csv.split(separator: "\n").count == 5, "a header and four runs: \(csv)")
        #expect(r.output.components(separatedBy: "btag sweep: 4 runs").count == 2, "rank 0 alone reports: \(r.output)")
    }

    /// A sweep under two ranks keeps sweep.csv current: when rank 0 starts its second run, the
    /// CSV lists the runs finished by both ranks so far and no other (lua/tests/distributed/sweep_csv.lua
    /// orders four stand-in runs with barriers); at the end it lists all four.
    @Test func sweepCSVIsCurrentDuringTheSweep() throws {
        if Self.skipped() { return }
        let dir = NSTemporaryDirectory() + "mpmlua-mpi-sweep-csv-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (r, _) = try Self.run(ranks: 2, [Self.script("sweep_csv.lua"), dir], timeout: 60)
        #expect(r.status == 0, "\(Self.report(r))")
        #expect(r.output.contains("between: 1,2; final: 4 rows, 4 returned"), "\(Self.report(r))")
    }

    /// make paper's job under two ranks at tiny sizes: pre-training is data-parallel, the sweeps
    /// deal out their runs, rank 0 alone prints the stages and writes the report; a second job
    /// under two ranks and a third in one process find every run done (runs are named by their
    /// experiment, not by how many processes ran them) and report the same numbers.
    @Test func paperJobUnderTwoRanks() throws {
        if Self.skipped() { return }
        let dir = NSTemporaryDirectory() + "mpmlua-mpi-paper-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func job(_ ranks: Int, report: String) throws -> RunResult {
            try Self.run(ranks: ranks, [TestPaths.root.appendingPathComponent("examples/paper.lua").path,
                "--tasks", "cfm", "--steps", "4", "--batch-size", "16", "--preset", "tiny", "--protocols", "jetclass,btag",
                "--sizes", "20,40", "--seeds", "1,2", "--epochs", "1", "--test-jets", "64", "--reconstruct-jets", "64",
                "--runs", dir + "/runs", "--report", dir + "/" + report, "--quiet"], timeout: 240).0
        }
        let two = try job(2, report: "two")
        #expect(two.status == 0, "\(Self.report(two))")
        #expect(two.output.components(separatedBy: "paper [1/").count == 2, "rank 0 alone prints the stages: \(two.output)")
        let readme = (try? String(contentsOfFile: dir + "/two/README.md", encoding: .utf8)) ?? ""
        #expect(readme.contains("2 processes of 1 thread"), "\(readme.prefix(600))")
        let runs = { (name: String) in
            ((try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/runs/\(name)")) ?? []).filter { $0.contains("_n") }.sorted()
        }
        #expect(runs("jetclass").count == 8 && runs("btag").count == 8, "\(runs("jetclass")) \(runs("btag"))")
        let before = runs("jetclass") + runs("btag")
        // Again under two ranks: the finished pre-training is found done on every rank.
        let again = try job(2, report: "again")
        #expect(again.status == 0, "\(Self.report(again))")
        let one = try job(0, report: "one")
        #expect(one.status == 0, "\(Self.report(one))")
        #expect(runs("jetclass") + runs("btag") == before, "the one-process job made no new run")
        func rows(_ report: String) -> String {
            guard let data = FileManager.default.contents(atPath: "\(dir)/\(report)/results.json"),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let protocols = json["protocols"] as? [String: Any] else { return "" }
            let text = try? JSONSerialization.data(withJSONObject: protocols, options: [.sortedKeys])
            return text.map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
        #expect(!rows("two").isEmpty && rows("two") == rows("one"), "the same rows from both jobs")
    }

    @Test func collectives() throws {
        if Self.skipped() { return }
        let (r, _) = try Self.run(ranks: 2, [Self.script("collectives.lua")])
        #expect(r.status == 0 && r.output.contains("collectives: ok"), "\(Self.report(r))")
    }

    /// Masking is split on the global batch and CFM's time and noise are keyed per particle
    /// (ParticleNoise), so two ranks reproduce one process up to float rounding (the gradient
    /// sum's order); a run resumed under MPI continues exactly, and a checkpoint written by two
    /// ranks resumes in one process (the loader position counts global batches).
    @Test func twoRanksReproduceOneProcessAndResume() throws {
        if Self.skipped() { return }
        let dir = NSTemporaryDirectory() + "mpmlua-mpi-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = TestPaths.root.appendingPathComponent("data/jetclass_train.h5").path
        let job = [TestPaths.root.appendingPathComponent("examples/pretrain.lua").path, "--preset", "tiny",
                   "--batch-size", "16", "--log-every", "1", "--val", "none", "--max-jets", "400", "--data", data,
                   "--warmup", "2", "--half-life", "5", "--checkpoint-every", "5", "--quiet"]
        // cfm + id, and the SSFM (its own mask range, per-jet time; the decoder gets no gradient).
        let runs = [(0, "cfm", "one", 20, false), (2, "cfm", "two", 20, false), (2, "cfm", "resumed", 10, false),
                    (2, "cfm", "resumed", 20, true), (2, "cfm", "switched", 10, false), (0, "cfm", "switched", 20, true),
                    (0, "ssfm", "ssfm1", 10, false), (2, "ssfm", "ssfm2", 10, false)]
        for (ranks, task, out, steps, resume) in runs {
            let (r, _) = try Self.run(ranks: ranks, job + ["--task", task, "--steps", "\(steps)", "--out", "\(dir)/\(out)"] + (resume ? ["--resume"] : []))
            #expect(r.status == 0, "\(out) (\(ranks) ranks): \(Self.report(r))")
            if r.status != 0 { return }
        }
        let compare = Self.script("compare_runs.lua")
        let (same, _) = try Self.run(ranks: 0, [compare, "\(dir)/one", "\(dir)/two", "1e-4"])
        #expect(same.status == 0 && same.output.contains("compare_runs: ok"), "1 vs 2 ranks: \(Self.report(same))")
        if same.status == 0 { print(same.output.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let (resumed, _) = try Self.run(ranks: 0, [compare, "\(dir)/two", "\(dir)/resumed", "0"])
        #expect(resumed.status == 0, "resumed under MPI vs uninterrupted: \(Self.report(resumed))")
        let (switched, _) = try Self.run(ranks: 0, [compare, "\(dir)/two", "\(dir)/switched", "1e-4"])
        #expect(switched.status == 0, "2 ranks, then resumed in 1 process, vs 2 ranks: \(Self.report(switched))")
        let (ssfm, _) = try Self.run(ranks: 0, [compare, "\(dir)/ssfm1", "\(dir)/ssfm2", "1e-4"])
        #expect(ssfm.status == 0, "ssfm, 1 vs 2 ranks: \(Self.report(ssfm))")
    }

    /// Fine-tuning with a sharded loader is data-parallel (mpm.finetune.run): two ranks give the
    /// per-step losses and final weights of one process, and rank 0 writes the run's files.
    @Test func fineTuningIsDataParallel() throws {
        if Self.skipped() { return }
        let dir = NSTemporaryDirectory() + "mpmlua-mpi-ft-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func numbers(_ output: String, _ label: String) -> [Double] {
            let line = output.split(separator: "\n").first { $0.hasPrefix(label + ": ") } ?? ""
            return line.dropFirst(label.count + 2).split(separator: " ").compactMap { Double($0) }
        }
        let (one, _) = try Self.run(ranks: 0, [Self.script("finetune.lua"), dir + "/one"])
        let (two, _) = try Self.run(ranks: 2, [Self.script("finetune.lua"), dir + "/two"])
        #expect(one.status == 0 && two.status == 0, "\(Self.report(one))\n\(Self.report(two))")
        let a = numbers(one.output, "losses"), b = numbers(two.output, "losses")
        #expect(a.count == 12 && b.count == 12, "\(one.output)\n\(two.output)")
        for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-5 * abs(x), "losses \(a) vs \(b)") }
        let wa = numbers(one.output, "weights"), wb = numbers(two.output, "weights")
        #expect(wa.count == 1 && wb.count == 1 && abs(wa[0] - wb[0]) <= 1e-5 * wa[0], "weights \(wa) vs \(wb)")
        #expect(two.output.contains("files: true true"), "\(two.output)")
        #expect(two.output.components(separatedBy: "losses:").count == 2, "rank 0 alone prints: \(two.output)")
    }

    /// A failure on rank 1 (a Lua error, a NaN loss) ends both ranks within seconds, the
    /// message naming the rank, while rank 0 waits in an allreduce; no Open MPI banner.
    @Test(arguments: [("lua", "rank 1: "), ("nan", "rank 1: step 3: loss is NaN (task cfm)")])
    func failureOnOneRankEndsTheJob(_ kind: String, _ expected: String) throws {
        if Self.skipped() { return }
        let (r, seconds) = try Self.run(ranks: 2, [Self.script("fail.lua"), kind], timeout: 60)
        #expect(r.status == 1, "\(Self.report(r))")
        #expect(r.error.hasPrefix("mpmlua: " + expected), "\(Self.report(r))")
        if kind == "lua" { #expect(r.error.contains("failing on purpose"), "\(Self.report(r))") }
        if kind == "nan" { #expect(r.error == "mpmlua: \(expected)\n", "one line: \(Self.report(r))") }
        Self.expectNoLauncherBanner(r)
        #expect(!r.output.contains("rank 0 was not stopped"), "\(Self.report(r))")
        #expect(seconds < 30, "the job took \(seconds) s to end")
    }

    /// The same user's mistake on every rank (a missing backbone, a bad option) is one line,
    /// from rank 0, and mpirun exits with status 1 without banners; different messages are
    /// rank 0's and then the other rank's, labelled.
    @Test func userMistakeOnEveryRankIsOneLine() throws {
        if Self.skipped() { return }
        let (same, _) = try Self.run(ranks: 2, [Self.script("user_error.lua"), "same"], timeout: 60)
        #expect(same.status == 1, "\(Self.report(same))")
        #expect(same.error == "mpmlua: --data: no such file nosuch.h5\n", "\(Self.report(same))")
        Self.expectNoLauncherBanner(same)
        let (different, _) = try Self.run(ranks: 2, [Self.script("user_error.lua"), "different"], timeout: 60)
        #expect(different.status == 1, "\(Self.report(different))")
        #expect(different.error.split(separator: "\n").sorted() ==
                ["mpmlua: --data: shard 0 is missing", "mpmlua: rank 1: --data: shard 1 is missing"], "\(Self.report(different))")
        Self.expectNoLauncherBanner(different)
        // Through the library: a protocol script given a backbone that does not exist.
        let jetclass = TestPaths.root.appendingPathComponent("examples/jetclass.lua").path
        let (backbone, _) = try Self.run(ranks: 2, [jetclass, "--backbone", "nosuch.h5"], timeout: 60)
        #expect(backbone.status == 1, "\(Self.report(backbone))")
        #expect(backbone.error.hasPrefix("mpmlua: --backbone: ") && backbone.error.split(separator: "\n").count == 1,
                "\(Self.report(backbone))")
        Self.expectNoLauncherBanner(backbone)
    }

    /// Open MPI hands the ranks a terminal for standard output, yet "auto" progress in a job
    /// writes plain lines: no carriage return, no escape code in mpirun's output.
    @Test func progressUnderMpirunIsPlainLines() throws {
        if Self.skipped() { return }
        let (lines, _) = try Self.run(ranks: 2, [Self.script("progress_lines.lua")], timeout: 60)
        #expect(lines.status == 0, "\(Self.report(lines))")
        #expect(lines.output.contains("stdout is a terminal: true"), "the test needs Open MPI's pty: \(lines.output)")
        #expect(lines.output.components(separatedBy: "step 3/3\n").count == 3, "\(lines.output)")
        let dir = NSTemporaryDirectory() + "mpmlua-mpi-progress-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = { (name: String) in TestPaths.root.appendingPathComponent("data/\(name)").path }
        let (run, _) = try Self.run(ranks: 2, [TestPaths.root.appendingPathComponent("examples/train_cfm.lua").path,
            "--preset", "tiny", "--steps", "6", "--batch-size", "8", "--val-jets", "16", "--log-every", "2",
            "--max-jets", "200", "--preprocessing-jets", "200", "--data", data("jetclass_train.h5"),
            "--val", data("jetclass_val.h5"), "--out", dir], timeout: 120)
        #expect(run.status == 0, "\(Self.report(run))")
        #expect(run.output.contains("step 6/6"), "\(run.output)")
        for output in [lines.output, run.output, lines.error, run.error] {
            // Bytes, not Characters: "\r\n" is one Character that a search for "\r" would miss.
            #expect(!output.utf8.contains(13) && !output.utf8.contains(27), "control codes in \(output.debugDescription)")
        }
    }

    /// What Open MPI 4 prints around a job that ends with an error, silenced by the host.
    static func expectNoLauncherBanner(_ r: RunResult, sourceLocation: SourceLocation = #_sourceLocation) {
        for banner in ["MPI_ABORT", "ORTE", "PRRTE", "mpirun detected", "Primary job", "-----"] {
            #expect(!r.error.contains(banner) && !r.output.contains(banner), "\(banner): \(report(r))", sourceLocation: sourceLocation)
        }
    }
}
