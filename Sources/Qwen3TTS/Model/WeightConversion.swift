// Transforming the generation weights (talker and code-predictor linears and heads) as a whole:
// storing them as another type, or preparing them for the fastest kernel.
import TTSRuntime

extension TransformerLayerWeights {
    func mapLinears(_ f: (Linear) -> Linear) -> TransformerLayerWeights {
        var mapped = TransformerLayerWeights(inputNorm: inputNorm, postNorm: postNorm, q: f(q), k: f(k), v: f(v), o: f(o),
                                             qNorm: qNorm, kNorm: kNorm, gate: gate.map(f), up: f(up), down: f(down),
                                             attentionScale: attentionScale, mlpScale: mlpScale)
        mapped.normBiases = normBiases
        return mapped
    }
}

extension TransformerStack {
    func mapLinears(_ f: (Linear) -> Linear) -> TransformerStack {
        TransformerStack(shape: shape, layers: layers.map { $0.mapLinears(f) }, finalNorm: finalNorm)
    }
}

/// Where a generation matrix sits: the transformer layers' projections, or the heads and the
/// predictor's input projection around them.
enum GenerationMatrixRole {
    case projection
    case head
}

extension WeightType {
    /// The quantization recipe: the type a generation matrix of `cols` columns in `role` gets when
    /// `self` is asked for. q4_k goes to the layers' projections (most of the bytes streamed per
    /// frame); the heads, whose logits pick the codes, get q8_0, as does any matrix whose width is
    /// not a multiple of q4_k's 256-value block. nil: keep the stored type.
    func recipe(for role: GenerationMatrixRole, cols: Int) -> WeightType? {
        let wanted = self == .q4_k && role == .head ? WeightType.q8_0 : self
        if wanted.supports(cols: cols) { return wanted }
        return WeightType.q8_0.supports(cols: cols) ? .q8_0 : nil
    }
}

extension Talker {
    /// Applies `f` to the layers' linears and the codec head; embeddings (read a row at a time)
    /// and the text projection (prompt only) are left as they are.
    func mapLinears(_ f: (Linear) -> Linear) -> Talker { mapLinears { l, _ in f(l) } }

    func mapLinears(_ f: (Linear, GenerationMatrixRole) -> Linear) -> Talker {
        Talker(stack: stack.mapLinears { f($0, .projection) }, textEmbedding: textEmbedding, textFC1: textFC1, textFC2: textFC2,
               codecEmbedding: codecEmbedding, codecHead: f(codecHead, .head))
    }
}

extension CodePredictor {
    func mapLinears(_ f: (Linear) -> Linear) -> CodePredictor { mapLinears { l, _ in f(l) } }

    func mapLinears(_ f: (Linear, GenerationMatrixRole) -> Linear) -> CodePredictor {
        CodePredictor(stack: stack.mapLinears { f($0, .projection) }, projection: projection.map { f($0, .head) },
                      embeddings: embeddings, heads: heads.map { f($0, .head) })
    }
}

/// Applies `transform` to every generation linear of the talker and code predictor, the
/// matrices in parallel on `pool` (re-encoding and repacking are per matrix and independent).
func transformGenerationWeights(_ talker: Talker, _ predictor: CodePredictor, pool: ThreadPool,
                                _ transform: @escaping (Linear, GenerationMatrixRole) -> Linear) -> (Talker, CodePredictor) {
    var originals: [(Linear, GenerationMatrixRole)] = []
    _ = talker.mapLinears { l, role in originals.append((l, role)); return l }
    _ = predictor.mapLinears { l, role in originals.append((l, role)); return l }
    let results = UnsafeMutablePointer<Linear?>.allocate(capacity: originals.count)
    results.initialize(repeating: nil, count: originals.count)
    defer {
        results.deinitialize(count: originals.count)
        results.deallocate()
    }
    let inputs = originals
    pool.parallelFor(inputs.count) { i in results[i] = transform(inputs[i].0, inputs[i].1) }
    // mapLinears visits the matrices in the same order every time.
    var next = 0
    func take(_: Linear) -> Linear {
        defer { next += 1 }
        return results[next]!
    }
    let t = talker.mapLinears(take)
    let p = predictor.mapLinears(take)
    return (t, p)
}
