// Batched generation (issue 18): a request's codes are the same bytes alone and in a batch of
// 2, 3, 4 or 8, whatever joins or leaves around it and when. Greedy and seeded sampling, on the
// golden fixture checkpoints (f32) and on a random checkpoint wide enough for the quantized
// integer kernels (q8_0, q4_k). The CI repeats this suite on each slower kernel path.
import Foundation
import Testing
import TTSRuntime
@testable import Qwen3TTS

@Suite(.tags(.numerical)) struct BatchInvarianceTests {
    struct Job {
        var request: SynthesisRequest
        var options: GenerationOptions
        /// The step at which it joins the batch.
        var joinsAt: Int
    }

    static let texts = ["Hello there.", "A longer sentence, so that this one runs for more frames.", "Short.",
                        "Numbers: 1, 2, 3.", "Mixed 中文 text.", "Another voice joins late.", "Ça va?", "The end."]

    /// Requests for `model`: alternately greedy and seeded sampling, frame caps that differ (so they
    /// leave at different frames) and joins spread over the first frames.
    static func jobs(_ model: Qwen3TTSModel, count: Int) -> [Job] {
        let speakers = model.configuration.talker.speakerIds.keys.sorted()
        return (0..<count).map { i in
            var r = SynthesisRequest(text: texts[i % texts.count], language: i % 3 == 0 ? "english" : "auto")
            if !speakers.isEmpty { r.speaker = speakers[i % speakers.count] }
            if model.configuration.modelKind == .voiceDesign { r.instruct = i % 2 == 0 ? "A calm voice." : "Fast and bright." }
            var o = GenerationOptions()
            o.greedy = i % 2 == 0
            o.seed = UInt64(100 + i)
            o.maxFrames = 4 + 2 * i
            return Job(request: r, options: o, joinsAt: i == 0 ? 0 : (i * 2) % 5)
        }
    }

    /// Runs the jobs through one BatchGenerator (joining at their steps): codes per job, and the
    /// bytes of its talker hidden state after every step.
    static func batched(_ model: Qwen3TTSModel, _ jobs: [Job], prefillRowsPerStep: Int? = nil) throws -> (codes: [[[Int]]], hidden: [[[UInt32]]]) {
        let batch = BatchGenerator(model: model)
        if let prefillRowsPerStep { batch.prefillRowsPerStep = prefillRowsPerStep }
        var ids: [Int: Int] = [:]  // batch id -> job index
        var codes = [[[Int]]](repeating: [], count: jobs.count)
        var hidden = [[[UInt32]]](repeating: [], count: jobs.count)
        var finished = Set<Int>()
        var step = 0
        while finished.count < jobs.count {
            for (j, job) in jobs.enumerated() where job.joinsAt == step {
                ids[try batch.add(job.request, options: job.options).id] = j
            }
            let result = batch.step()
            for frame in result.frames {
                codes[ids[frame.id]!].append(frame.codes)
                if let h = batch.lastHidden(of: frame.id) { hidden[ids[frame.id]!].append(h.map(\.bitPattern)) }
            }
            for f in result.finished { finished.insert(ids[f.id]!) }
            step += 1
            #expect(step < 500, "the batch never finished")
            if step >= 500 { break }
        }
        #expect(batch.count == 0)
        return (codes, hidden)
    }

    func check(_ model: Qwen3TTSModel, label: String) throws {
        let all = Self.jobs(model, count: 8)
        let alone = try all.map { try model.generateCodes($0.request, options: $0.options).codes }
        #expect(alone.allSatisfy { !$0.isEmpty })
        let aloneHidden = try all.map { job -> [[UInt32]] in
            var one = job
            one.joinsAt = 0
            let run = try Self.batched(model, [one])
            #expect(run.codes[0] == alone[all.firstIndex { $0.request == job.request && $0.options == job.options }!])
            return run.hidden[0]
        }
        // The last run also prefills joining requests 5 rows per step, over several steps.
        for (size, budget) in [(2, nil), (3, nil), (4, nil), (8, nil), (8, 5)] as [(Int, Int?)] {
            let got = try Self.batched(model, Array(all.prefix(size)), prefillRowsPerStep: budget)
            for j in 0..<size {
                #expect(got.codes[j] == alone[j], "\(label): request \(j) in a batch of \(size) (prefill \(budget ?? 64) rows per step) differs from alone (\(got.codes[j].count) vs \(alone[j].count) frames)")
                let sameHidden = got.hidden[j] == aloneHidden[j]
                #expect(sameHidden, "\(label): request \(j)'s hidden states in a batch of \(size) differ from alone")
            }
        }
    }

    /// Runs heavy synchronous work on a thread of its own: long CPU-bound tests on Swift's
    /// cooperative pool (2 threads here) starve the async tests running beside them (a stream's
    /// consumer not resumed for minutes while its producer runs on).
    func offPool(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            let thread = Thread { c.resume(with: Result { try body() }) }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    @Test(arguments: ["tiny-cv-0b6", "tiny-cv-1b7", "tiny-vd-1b7"])
    func fixtureCheckpointsGiveTheSameCodesInAnyBatch(checkpoint: String) async throws {
        let model = try Fixtures.model(checkpoint)
        try await offPool { try self.check(model, label: checkpoint) }
    }

    @Test(arguments: [WeightType.q8_0, .q4_k])
    func quantizedKernelsGiveTheSameCodesInAnyBatch(type: WeightType) async throws {
        let dir = try #require(QuantFixture.wide)
        let model = try Qwen3TTSModel.load(directory: dir, threads: 2, weights: type)
        try await offPool { try self.check(model, label: "\(type)") }
    }

    /// Long text spoken as several utterances: the batch moves each request from one utterance to
    /// the next as `generateCodes` per utterance does, with the same seeds.
    @Test func utterancesFollowEachOtherInTheBatch() throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        var r = SynthesisRequest(text: "First sentence here. Second one follows. And a third.", language: "english", speaker: "aiden")
        r.textLayout = .streaming
        var o = GenerationOptions()
        o.seed = 7
        o.maxFrames = 5
        let parts = try model.validate(r, options: o, segmentCharacters: 24).utterances
        #expect(parts.count == 3)
        let alone = try parts.flatMap { try model.generateCodes($0.request, options: $0.options).codes }
        let batch = BatchGenerator(model: model)
        let other = try batch.add(SynthesisRequest(text: "Company.", language: "english", speaker: "sohee"), options: o).id
        let id = try batch.add(r, options: o, segmentCharacters: 24).id
        var got: [[Int]] = [], segments: [Int] = []
        var done = false
        for _ in 0..<100 where !done {
            let step = batch.step()
            for f in step.frames where f.id == id { got.append(f.codes); segments.append(f.segment) }
            done = step.finished.contains { $0.id == id }
        }
        #expect(done)
        #expect(got == alone)
        #expect(Set(segments) == [0, 1, 2])
        _ = other
    }

    /// A removed request leaves at once; the others go on unchanged.
    @Test func removingARequestLeavesTheOthersAlone() throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        let jobs = Self.jobs(model, count: 3)
        let alone = try jobs.map { try model.generateCodes($0.request, options: $0.options).codes }
        let batch = BatchGenerator(model: model)
        let ids = try jobs.map { try batch.add($0.request, options: $0.options).id }
        var got = [[[Int]]](repeating: [], count: 3)
        for s in 0..<100 {
            if s == 2 { batch.remove(ids[1]) }
            let step = batch.step()
            for f in step.frames { got[ids.firstIndex(of: f.id)!].append(f.codes) }
            if batch.count == 0 { break }
        }
        #expect(got[0] == alone[0])
        #expect(got[2] == alone[2])
        #expect(got[1] == Array(alone[1].prefix(2)))
    }
}
