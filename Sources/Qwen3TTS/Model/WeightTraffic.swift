// Weight bytes streamed per generated frame (the memory-bandwidth bound of generation), and the
// storage types of those weights.
import TTSRuntime

extension TransformerStack {
    var weightBytes: Int {
        layers.reduce(0) { sum, l in
            sum + ([l.q, l.k, l.v, l.o, l.up, l.down] + [l.gate].compactMap { $0 }).reduce(0) { $0 + $1.weight.byteCount }
        }
    }
}

extension Qwen3TTSModel {
    /// (talker bytes per step, code-predictor bytes per frame): the talker reads its layers and
    /// codec head once per frame; the code predictor reads its layers once per forward pass
    /// (15 passes: the first handles two positions) and each of its 15 heads once.
    public var weightBytesPerFrame: (talker: Int, codePredictor: Int) {
        let talkerBytes = talker.stack.weightBytes + talker.codecHead.weight.byteCount
        let passes = codePredictor.groups - 1
        let cp = passes * codePredictor.stack.weightBytes
            + codePredictor.heads.reduce(0) { $0 + $1.weight.byteCount }
            + passes * (codePredictor.projection?.weight.byteCount ?? 0)
        return (talkerBytes, cp)
    }
}

extension Qwen3TTSModel {
    /// The storage types of the talker and code-predictor matrices, with counts ("q8_0 x 247").
    public var generationWeightTypes: [String] {
        var counts: [String: Int] = [:]
        func note(_ l: Linear) -> Linear {
            var name = l.weight.weightType.rawValue
            switch l.weight.storage {
            case .q8Vnni, .q4kVnni: name += " (VNNI order)"
            default: break
            }
            counts[name, default: 0] += 1
            return l
        }
        _ = talker.mapLinears(note)
        _ = codePredictor.mapLinears(note)
        return counts.sorted { $0.key < $1.key }.map { "\($0.key) x \($0.value)" }
    }
}
