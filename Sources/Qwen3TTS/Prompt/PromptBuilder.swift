// Prompt construction: the prefill embeddings and the trailing text track (spec §6).
// Ports Qwen3TTSForConditionalGeneration.generate (modeling_qwen3_tts.py) and the chat strings of
// Qwen3TTSModel (qwen_tts/inference/qwen3_tts_model.py), qwen-tts 0.1.1.
import Foundation
import TTSRuntime
import TTSTokenizers

/// A built prompt: rows of talker input (each `hidden` floats).
struct Prompt {
    let hidden: Int
    /// Prefill rows [count][hidden].
    var prefill: [Float]
    /// Text added to decode step k while k < trailingCount; afterwards `pad` is added.
    var trailing: [Float]
    var pad: [Float]
    /// The end-of-text row (the last trailing row of the streaming layout).
    var eos: [Float] = []
    /// false while the text of a text-streaming utterance is still arriving: `trailing` holds
    /// the rows of the tokens so far, and steps past them wait (`hasTextRow`).
    var textEnded = true
    var inputIds: [Int]
    var instructIds: [Int]?
    /// Tokens of the text to speak (without the chat wrapping).
    var textTokenCount: Int
    /// Leading prefill rows that do not depend on the text: the instruct block, role, codec
    /// prefix with the speaker or voice, and an in-context reference's transcript. Requests that
    /// share them share their KV state (PromptCache).
    var sharedPrefixCount = 0

    var prefillCount: Int { prefill.count / hidden }
    var trailingCount: Int { trailing.count / hidden }

    /// The text-track row added to decode step `step` (a view, not a copy).
    func textRow(_ step: Int) -> ArraySlice<Float> {
        step < trailingCount ? trailing[(step * hidden)..<((step + 1) * hidden)] : pad[...]
    }

    /// Whether decode step `step`'s text row is known (always, unless the text is streaming in).
    func hasTextRow(_ step: Int) -> Bool { textEnded || step < trailingCount }
}

struct PromptBuilder {
    let config: Qwen3TTSConfiguration
    let tokenizer: BPETokenizer
    let talker: Talker
    let codePredictor: CodePredictor

    static func assistantText(_ text: String) -> String { "<|im_start|>assistant\n\(text)<|im_end|>\n<|im_start|>assistant\n" }
    static func referenceText(_ text: String) -> String { "<|im_start|>assistant\n\(text)<|im_end|>\n" }
    static func instructText(_ text: String) -> String { "<|im_start|>user\n\(text)<|im_end|>\n" }

    /// Checks a request against the model and returns the codec language id (nil = auto),
    /// after the dialect rule.
    func resolveLanguage(_ request: SynthesisRequest) throws -> Int? {
        let t = config.talker
        let language = request.language.lowercased()
        guard config.languages.contains(language) else {
            throw SynthesisError.unknownLanguage(request.language, valid: config.languages)
        }
        var id = language == "auto" ? nil : t.codecLanguageId[language]
        if let speaker = request.speaker?.lowercased(), !speaker.isEmpty,
           language == "chinese" || language == "auto", let dialect = t.speakerDialects[speaker] {
            id = t.codecLanguageId[dialect]
        }
        return id
    }

    /// Checks a request's text, voice, language, instruction and reference against the model
    /// (part of `Qwen3TTSModel.validate`).
    func validate(_ request: SynthesisRequest) throws {
        if request.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw SynthesisError.emptyText }
        _ = try resolveLanguage(request)
        if let speaker = request.speaker, !speaker.isEmpty {
            guard config.modelKind == .customVoice else { throw SynthesisError.speakerNotSupported(model: config.modelKind.rawValue) }
            guard config.talker.speakerIds[speaker.lowercased()] != nil else {
                throw SynthesisError.unknownSpeaker(speaker, valid: config.speakers)
            }
        }
        if let instruct = request.instruct, !instruct.isEmpty {
            guard config.supportsInstruct else {
                throw SynthesisError.instructNotSupported(model: "\(config.modelKind.rawValue) \(config.modelSize)")
            }
            try TextLimits.checkInstruction(instruct, tokenizer: tokenizer)
        }
        if let xvector = request.speakerEmbedding {
            // Base: a cloned voice's x-vector. CustomVoice: a blend of its speakers' rows, which
            // fill the same slot. VoiceDesign's prompt has no speaker slot.
            guard config.modelKind == .base || config.modelKind == .customVoice else {
                throw SynthesisError.invalidOption(name: "voice", reason: "as an embedding needs a Base or CustomVoice model; this is \(config.modelKind.rawValue)")
            }
            guard request.speaker == nil || request.speaker!.isEmpty else {
                throw SynthesisError.invalidOption(name: "voice", reason: "give a speaker name or an embedding, not both")
            }
            guard xvector.count == talker.hidden, xvector.allSatisfy(\.isFinite) else {
                throw SynthesisError.invalidOption(name: "voice", reason: "has \(xvector.count) values (finite ones expected), the model needs \(talker.hidden)")
            }
        } else if config.modelKind == .base {
            throw SynthesisError.voiceRequired(model: "base")
        }
        if let reference = request.reference {
            guard config.modelKind == .base else {
                throw SynthesisError.invalidOption(name: "reference", reason: "in-context cloning needs a Base model; this is \(config.modelKind.rawValue)")
            }
            guard request.speakerEmbedding != nil else {
                throw SynthesisError.invalidOption(name: "reference", reason: "needs the voice's x-vector as well (in-context cloning uses both)")
            }
            if reference.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw SynthesisError.invalidOption(name: "reference text", reason: "is empty; in-context cloning needs the transcript of the reference audio")
            }
            try TextLimits.checkTranscript(reference.text, tokenizer: tokenizer)
            guard !reference.codes.isEmpty else { throw SynthesisError.invalidOption(name: "reference codes", reason: "are empty") }
            try TextLimits.check("reference audio", reference.codes.count, "frames", limit: Qwen3TTSModel.maximumReferenceFrames)
            let groups = config.talker.stack.numCodeGroups, size = codePredictor.codebookSize
            for (f, frame) in reference.codes.enumerated() {
                guard frame.count == groups, frame.allSatisfy({ (0..<size).contains($0) }) else {
                    throw SynthesisError.invalidOption(name: "reference codes", reason: "frame \(f) is not \(groups) codes in 0..<\(size)")
                }
            }
        }
    }

    func defaultLayout() -> TextLayout { config.modelKind == .base ? .streaming : .nonStreaming }

    /// The prompt of utterance `i` of a validated request (`Qwen3TTSModel.validate` has checked
    /// it; only its tokens are checked here, against the model's text vocabulary).
    func build(_ validated: ValidatedRequest, utterance i: Int) throws -> Prompt {
        let request = validated.utterance(i).request
        let ids = tokenizer.encode(Self.assistantText(request.text))
        // 3 role tokens + at least one text token + 5 closing tokens.
        guard ids.count >= 9 else { throw SynthesisError.emptyText }
        return try build(request, ids: ids, textIds: Array(ids[3..<(ids.count - 5)]), textComplete: true)
    }

    /// The role tokens that open the spoken text ("<|im_start|>assistant\n"): `encode` of the
    /// wrapped text starts with them whatever the text (tested).
    var roleIds: [Int] { tokenizer.encode("<|im_start|>assistant\n") }

    /// The prompt of a text-streaming utterance (streaming layout, no in-context reference; the
    /// request was validated for text streaming) once its first token is known: the prefill
    /// ends with that token's row, and the session adds the trailing rows as tokens arrive
    /// (`textEnded` false).
    func buildStreamingText(_ validated: ValidatedRequest, firstToken: Int) throws -> Prompt {
        var request = validated.request
        request.textLayout = .streaming
        return try build(request, ids: roleIds + [firstToken], textIds: [firstToken], textComplete: false)
    }

    private func build(_ request: SynthesisRequest, ids: [Int], textIds: [Int], textComplete: Bool) throws -> Prompt {
        let d = talker.hidden
        let t = config.talker
        var instructIds: [Int]?
        if let instruct = request.instruct, !instruct.isEmpty {
            instructIds = tokenizer.encode(Self.instructText(instruct))
        }
        for id in ids + (instructIds ?? []) where id >= t.textVocabSize {
            throw SynthesisError.invalidOption(name: "text", reason: "contains token \(id), outside the model's text vocabulary (\(t.textVocabSize))")
        }

        var specials = [Float](repeating: 0, count: 3 * d)  // T(bos), T(eos), T(pad)
        specials.withUnsafeMutableBufferPointer { talker.projectText([config.ttsBosTokenId, config.ttsEosTokenId, config.ttsPadTokenId], into: $0.baseAddress!) }
        let bos = Array(specials[0..<d]), eos = Array(specials[d..<(2 * d)]), pad = Array(specials[(2 * d)...])

        var codecSeq: [Int?]
        if let lang = try resolveLanguage(request) {
            codecSeq = [t.codecThinkId, t.codecThinkBosId, lang, t.codecThinkEosId]
        } else {
            codecSeq = [t.codecNothinkId, t.codecThinkBosId, t.codecThinkEosId]
        }
        if let speaker = request.speaker?.lowercased(), !speaker.isEmpty { codecSeq.append(t.speakerIds[speaker]!) }
        if request.speakerEmbedding != nil { codecSeq.append(nil) }  // the x-vector itself fills this slot
        codecSeq += [t.codecPadId, t.codecBosId]
        let n = codecSeq.count

        var rows: [Float] = []
        func appendText(_ tokens: [Int]) {
            var block = [Float](repeating: 0, count: tokens.count * d)
            block.withUnsafeMutableBufferPointer { talker.projectText(tokens, into: $0.baseAddress!) }
            rows += block
        }
        func appendRow(text: [Float], codec: Int) {
            var row = text
            row.withUnsafeMutableBufferPointer { talker.addCodec(codec, into: $0.baseAddress!) }
            rows += row
        }
        if let instructIds { appendText(instructIds) }
        appendText(Array(ids[0..<3]))
        for j in 0..<(n - 1) {
            let text = j < n - 2 ? pad : bos
            if let codec = codecSeq[j] {
                appendRow(text: text, codec: codec)
            } else if let xvector = request.speakerEmbedding {
                rows += zip(text, xvector).map { $0 + $1 }
            }
        }

        var trailing: [Float] = []
        let shared = rows.count / d
        if let reference = request.reference {
            let (icl, transcriptRows) = try appendReference(reference, textIds: textIds, layout: request.textLayout ?? defaultLayout(),
                                                            eos: eos, pad: pad, rows: &rows)
            var prompt = Prompt(hidden: d, prefill: rows, trailing: icl, pad: pad, inputIds: ids, instructIds: instructIds,
                                textTokenCount: textIds.count)
            prompt.sharedPrefixCount = shared + transcriptRows
            return prompt
        }
        switch request.textLayout ?? defaultLayout() {
        case .streaming:
            var first = [Float](repeating: 0, count: d)
            first.withUnsafeMutableBufferPointer { talker.projectText([textIds[0]], into: $0.baseAddress!) }
            appendRow(text: first, codec: t.codecBosId)
            let rest = Array(textIds.dropFirst())
            if !rest.isEmpty {
                trailing = [Float](repeating: 0, count: rest.count * d)
                trailing.withUnsafeMutableBufferPointer { talker.projectText(rest, into: $0.baseAddress!) }
            }
            if textComplete { trailing += eos }
        case .nonStreaming:
            var block = [Float](repeating: 0, count: textIds.count * d)
            block.withUnsafeMutableBufferPointer { talker.projectText(textIds, into: $0.baseAddress!) }
            for i in 0..<textIds.count { appendRow(text: Array(block[(i * d)..<((i + 1) * d)]), codec: t.codecPadId) }
            appendRow(text: eos, codec: t.codecPadId)
            appendRow(text: pad, codec: t.codecBosId)
        }
        var prompt = Prompt(hidden: d, prefill: rows, trailing: trailing, pad: pad, inputIds: ids, instructIds: instructIds,
                            textTokenCount: textIds.count)
        prompt.sharedPrefixCount = shared
        prompt.eos = eos
        prompt.textEnded = textComplete
        return prompt
    }

    /// In-context cloning (spec §6.3): the text track is reference text + text + eos, the codec
    /// track is bos + the reference frames (each the sum of its 16 code embeddings). Streaming:
    /// the two tracks are added position by position over the codec length, text beyond it trails
    /// (or pad fills a shorter text track). Non-streaming: text over codec pad, then the codec
    /// track over text pad. Appends the prefill rows; returns the trailing text rows and how
    /// many of the appended rows hold only the transcript (not the text).
    private func appendReference(_ reference: VoiceReference, textIds: [Int], layout: TextLayout,
                                 eos: [Float], pad: [Float], rows: inout [Float]) throws -> (trailing: [Float], transcriptRows: Int) {
        let d = talker.hidden, t = config.talker
        let refIds = tokenizer.encode(Self.referenceText(reference.text))
        guard refIds.count >= 6 else { throw SynthesisError.invalidOption(name: "reference text", reason: "has no tokens") }
        let tokens = Array(refIds[3..<(refIds.count - 2)]) + textIds
        for id in tokens where id >= t.textVocabSize {
            throw SynthesisError.invalidOption(name: "reference text", reason: "contains token \(id), outside the model's text vocabulary (\(t.textVocabSize))")
        }
        var text = [Float](repeating: 0, count: tokens.count * d)
        text.withUnsafeMutableBufferPointer { talker.projectText(tokens, into: $0.baseAddress!) }
        text += eos
        var codec = [Float](repeating: 0, count: (reference.codes.count + 1) * d)
        codec.withUnsafeMutableBufferPointer { c in
            talker.addCodec(t.codecBosId, into: c.baseAddress!)
            for (f, frame) in reference.codes.enumerated() {
                codePredictor.addFrame(frame, talker: talker, into: c.baseAddress! + (f + 1) * d)
            }
        }
        let textCount = tokens.count + 1, codecCount = reference.codes.count + 1
        let transcript = refIds.count - 5
        switch layout {
        case .nonStreaming:
            for i in 0..<textCount {
                var row = Array(text[(i * d)..<((i + 1) * d)])
                row.withUnsafeMutableBufferPointer { talker.addCodec(t.codecPadId, into: $0.baseAddress!) }
                rows += row
            }
            for j in 0..<codecCount { rows += zip(codec[(j * d)..<((j + 1) * d)], pad).map { $0 + $1 } }
            return ([], transcript)
        case .streaming:
            for j in 0..<codecCount {
                let textRow = j < textCount ? text[(j * d)..<((j + 1) * d)] : pad[...]
                rows += zip(codec[(j * d)..<((j + 1) * d)], textRow).map { $0 + $1 }
            }
            return (textCount > codecCount ? Array(text[(codecCount * d)...]) : [], min(transcript, codecCount))
        }
    }
}
