// The talker alone, teacher-forced with given frames: the intermediate values the parity and
// quantization tests compare.
@testable import Qwen3TTS
import TTSRuntime

struct TalkerProbe {
    let model: Qwen3TTSModel
    let prompt: Prompt
    let state: TalkerState
    let scratch: TransformerScratch

    init(_ model: Qwen3TTSModel, prompt: Prompt, steps: Int) {
        self.model = model
        self.prompt = prompt
        state = TalkerState(talker: model.talker, capacity: prompt.prefillCount + steps + 1)
        scratch = TransformerScratch(pool: model.pool)
    }

    /// The whole prompt in one pass; `observe` sees each layer's output.
    func prefill(observe: ((Int, UnsafePointer<Float>) -> Void)? = nil) {
        var x = prompt.prefill
        x.withUnsafeMutableBufferPointer { model.talker.prefill($0.baseAddress!, count: prompt.prefillCount, state: state, scratch: scratch, observe: observe) }
    }

    /// One step on frame `k`'s codes (its embedding plus text row k).
    func step(frame codes: [Int], index k: Int) {
        let d = model.talker.hidden
        var row = Array(prompt.textRow(k))
        precondition(row.count == d)
        row.withUnsafeMutableBufferPointer {
            model.codePredictor.addFrame(codes, talker: model.talker, into: $0.baseAddress!)
            model.talker.step($0.baseAddress!, states: [state], scratch: scratch)
        }
    }

    var lastHidden: [Float] { Array(UnsafeBufferPointer(start: state.lastHidden, count: model.talker.hidden)) }

    /// codec_head logits of the last hidden state.
    func logits() -> [Float] {
        var gathered = [Float](repeating: 0, count: model.talker.hidden)
        var out = [Float](repeating: 0, count: model.talker.codecVocab)
        gathered.withUnsafeMutableBufferPointer { g in
            out.withUnsafeMutableBufferPointer { model.talker.logits([state], gathered: g.baseAddress!, into: $0.baseAddress!, pool: model.pool) }
        }
        return out
    }
}
