// Cached speaker prompts: a request whose shared prefix comes from the cache gives exactly the
// codes and audio of one that computes it, and of a model without a cache.
import Foundation
import Testing
@testable import Qwen3TTS

@Suite(.serialized, .tags(.numerical)) struct PromptCacheTests {
    /// A model of its own: these tests clear and resize its cache and count its hits, which the
    /// other suites' requests on the shared fixture models would disturb.
    static func privateModel(_ name: String) throws -> Qwen3TTSModel {
        try Qwen3TTSModel.load(directory: Fixtures.checkpoint(name))
    }

    /// The prefix is everything before the text: role + codec prefix (+ speaker / voice), plus an
    /// in-context transcript.
    @Test func sharedPrefixesStopWhereTheTextStarts() throws {
        let base = try Fixtures.model("tiny-base-0b6")
        for name in ["base-xvec-english-stream", "base-xvec-auto", "base-icl-english-stream", "base-icl-short-stream", "base-icl-chinese-nonstream"] {
            let c = try Fixtures.loadCase(name)
            let prompt = try base.prompt(for: c.request)
            let common = 3 + (c.language == "auto" ? 6 : 7) - 1  // role + codec sequence (with the x-vector) less bos
            let transcript = (c.referenceIds?.count ?? 5) - 5
            #expect(prompt.sharedPrefixCount == common + transcript, "\(name)")
            // Another text keeps the prefix rows, bit for bit.
            var other = c.request
            other.text = "Completely different words."
            let p2 = try base.prompt(for: other)
            let n = prompt.sharedPrefixCount * prompt.hidden
            #expect(p2.sharedPrefixCount == prompt.sharedPrefixCount)
            #expect(Array(p2.prefill[0..<n]) == Array(prompt.prefill[0..<n]))
            #expect(p2.prefill.count > n && prompt.prefill.count > n)
        }
    }

    @Test func cachedPrefixesGiveIdenticalCodesAndAudio() throws {
        let model = try Self.privateModel("tiny-base-0b6")
        for name in ["base-xvec-english-stream", "base-icl-english-stream", "base-icl-chinese-nonstream"] {
            let c = try Fixtures.loadCase(name)
            var sampled = c.greedyOptions
            sampled.greedy = false
            sampled.seed = 11
            for options in [c.greedyOptions, sampled] {
                model.promptCache.capacityBytes = 0
                let uncached = try model.synthesize(c.request, options: options)
                model.promptCache.capacityBytes = 64 << 20
                model.promptCache.removeAll()
                let before = model.promptCache.statistics
                let cold = try model.synthesize(c.request, options: options)
                let warm = try model.synthesize(c.request, options: options)
                let after = model.promptCache.statistics
                #expect(after.misses == before.misses + 1 && after.hits == before.hits + 1, "\(name)")
                #expect(cold.timings.cachedPrefixRows == 0 && warm.timings.cachedPrefixRows > 0)
                #expect(warm.codes == cold.codes && warm.audio == cold.audio, "\(name): cached must equal computed, bit for bit")
                #expect(cold.codes == uncached.codes, "\(name): the two-pass prefill gives the one-pass codes")
                if options.greedy { #expect(warm.codes == c.codes, "\(name): official codes") }
            }
        }
    }

    @Test func theCacheStaysWithinItsBudget() throws {
        let model = try Self.privateModel("tiny-cv-0b6")
        model.promptCache.capacityBytes = 64 << 20
        var options = GenerationOptions()
        options.greedy = true
        options.maxFrames = 2
        for speaker in ["ryan", "vivian", "serena"] {
            _ = try model.generateCodes(SynthesisRequest(text: "Hello there.", language: "english", speaker: speaker), options: options)
        }
        let three = model.promptCache.statistics
        #expect(three.entries == 3)
        // Ryan, inserted first, is used again: least recently used is now Vivian, and she (not
        // the oldest insert) is what goes when the budget shrinks to two entries.
        _ = try model.generateCodes(SynthesisRequest(text: "Once more.", language: "english", speaker: "ryan"), options: options)
        #expect(model.promptCache.statistics.hits == three.hits + 1)
        let perEntry = three.bytes / 3
        model.promptCache.capacityBytes = 2 * perEntry + perEntry / 2
        #expect(model.promptCache.statistics.entries == 2)
        for (speaker, kept) in [("ryan", true), ("serena", true), ("vivian", false)] {
            let before = model.promptCache.statistics.hits
            _ = try model.generateCodes(SynthesisRequest(text: "Again.", language: "english", speaker: speaker), options: options)
            #expect((model.promptCache.statistics.hits == before + 1) == kept, "\(speaker) should \(kept ? "" : "not ")be kept")
            if !kept { break }  // its miss re-inserts it and evicts another
        }
    }

    /// The cache type itself: a use refreshes an entry, so eviction follows last use, not insertion.
    @Test func evictionFollowsLastUseNotInsertion() {
        let cache = ByteBoundedCache<String, Int>(capacityBytes: 30)
        cache.insert(1, for: "a", bytes: 10)
        cache.insert(2, for: "b", bytes: 10)
        cache.insert(3, for: "c", bytes: 10)
        #expect(cache.value(for: "a") == 1)
        cache.insert(4, for: "d", bytes: 10)  // over budget: b, the least recently used, goes
        #expect(cache.value(for: "b") == nil)
        #expect(cache.value(for: "a") == 1 && cache.value(for: "c") == 3 && cache.value(for: "d") == 4)
        cache.insert(5, for: "e", bytes: 25)  // needs two evictions: a and c were used before d
        #expect(cache.statistics.entries == 1 && cache.value(for: "e") == 5)
        cache.insert(6, for: "f", bytes: 31)  // larger than the whole budget: not kept
        #expect(cache.value(for: "f") == nil && cache.statistics.bytes == 25)
    }
}
