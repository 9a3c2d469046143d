// Per-request generation settings; unset values come from the model's generation_config.json.
import TTSRuntime

public struct GenerationOptions: Sendable, Equatable {
    /// Argmax for code 0 and for the code predictor (after the official logit processors).
    public var greedy = false
    public var temperature: Float?
    public var topK: Int?
    public var topP: Float?
    public var repetitionPenalty: Float?
    public var subtalkerTemperature: Float?
    public var subtalkerTopK: Int?
    public var subtalkerTopP: Float?
    /// Seed of the session's RNG; nil draws one (reported in the result).
    public var seed: UInt64?
    /// Most frames to generate (12.5 per second of audio); nil: `defaultFrameLimit(textTokens:)`.
    public var maxFrames: Int?

    /// The default frame cap when none is given: 60 frames plus 10 per text token (4.8 s plus
    /// 0.8 s per token, well above any real speaking rate), so a missing end-of-speech token cannot
    /// run for minutes. The model's max_new_tokens - 1 still bounds it.
    public static func defaultFrameLimit(textTokens: Int) -> Int { 60 + 10 * max(textTokens, 1) }

    /// false: the end-of-speech token is never chosen, so exactly `maxFrames` frames are produced
    /// (benchmarks use this to time a fixed amount of work).
    public var stopAtEndOfSpeech = true

    public init() {}

    /// The seed a request runs with: `seed`, or one drawn now, in 0...Int64.max so that it
    /// survives JSON and signed integer columns when reported. The one place seeds are drawn.
    public func seedOrDrawn() -> UInt64 { seed ?? UInt64.random(in: 0...UInt64(Int64.max)) }

    /// Range checks with messages that name the option.
    public func validate() throws {
        func check(_ ok: Bool, _ name: String, _ reason: String) throws {
            if !ok { throw SynthesisError.invalidOption(name: name, reason: reason) }
        }
        if let t = temperature { try check(t > 0 && t.isFinite, "temperature", "must be a positive number") }
        if let t = subtalkerTemperature { try check(t > 0 && t.isFinite, "subtalker temperature", "must be a positive number") }
        if let k = topK { try check(k >= 0, "top-k", "must be 0 (off) or positive") }
        if let k = subtalkerTopK { try check(k >= 0, "subtalker top-k", "must be 0 (off) or positive") }
        if let p = topP { try check(p > 0 && p <= 1, "top-p", "must be in (0, 1]") }
        if let p = subtalkerTopP { try check(p > 0 && p <= 1, "subtalker top-p", "must be in (0, 1]") }
        if let r = repetitionPenalty { try check(r > 0 && r.isFinite, "repetition penalty", "must be a positive number") }
        if let m = maxFrames { try check(m >= 1, "max frames", "must be at least 1") }
    }

    /// `validate()`, and the frame cap within the model's: at most max_new_tokens − 1 frames
    /// (the official loop samples max_new_tokens codes and drops the last).
    public func validate(for defaults: GenerationDefaults) throws {
        try validate()
        if let m = maxFrames, m > defaults.maxNewTokens - 1 {
            throw SynthesisError.invalidOption(name: "max frames", reason: "must be at most \(defaults.maxNewTokens - 1) (the model's max_new_tokens − 1)")
        }
    }

    struct Resolved {
        var talker: SamplingParameters
        var predictor: SamplingParameters
        var repetitionPenalty: Float
        var maxNewTokens: Int
        var stopAtEndOfSpeech: Bool
    }

    func resolve(_ d: GenerationDefaults, textTokens: Int) -> Resolved {
        Resolved(
            talker: SamplingParameters(doSample: greedy ? false : d.doSample, temperature: temperature ?? d.temperature,
                                       topK: topK ?? d.topK, topP: topP ?? d.topP),
            predictor: SamplingParameters(doSample: greedy ? false : d.subtalkerDoSample,
                                          temperature: subtalkerTemperature ?? d.subtalkerTemperature,
                                          topK: subtalkerTopK ?? d.subtalkerTopK, topP: subtalkerTopP ?? d.subtalkerTopP),
            repetitionPenalty: repetitionPenalty ?? d.repetitionPenalty,
            maxNewTokens: min(d.maxNewTokens, maxFrames.map { $0 + 1 } ?? Self.defaultFrameLimit(textTokens: textTokens) + 1),
            stopAtEndOfSpeech: stopAtEndOfSpeech)
    }
}

/// Wall-clock time per phase, in seconds.
public struct SynthesisTimings: Sendable, Equatable {
    public var prompt: Double = 0
    public var prefill: Double = 0
    /// Prefill rows whose KV state came from the prompt cache instead of being computed.
    public var cachedPrefixRows = 0
    public var talkerSteps: Double = 0
    public var codePredictor: Double = 0
    public var decoder: Double = 0
    /// Time from the start of the request to the first generated frame's codes.
    public var firstFrame: Double = 0
    public var total: Double = 0

    /// Adds another part's phase times (utterances of one request); `firstFrame` and `total`
    /// are the request's own and stay.
    mutating func add(_ other: SynthesisTimings) {
        prompt += other.prompt
        prefill += other.prefill
        cachedPrefixRows += other.cachedPrefixRows
        talkerSteps += other.talkerSteps
        codePredictor += other.codePredictor
        decoder += other.decoder
    }
}

public struct SynthesisResult: Sendable {
    /// Generated codes, one row of `numCodeGroups` per frame.
    public var codes: [[Int]]
    /// Mono samples in [-1, 1].
    public var audio: [Float]
    public var sampleRate: Int
    public var seed: UInt64
    public var timings: SynthesisTimings
    /// true when generation ended with the end-of-speech token (false: the frame limit).
    public var finished: Bool

    public var audioSeconds: Double { Double(audio.count) / Double(sampleRate) }
    public var realTimeFactor: Double { audioSeconds > 0 ? timings.total / audioSeconds : 0 }
}
