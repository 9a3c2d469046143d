// Transforming the generation weights (talker and code-predictor linears and heads) as a whole:
// storing them as another type, or preparing them for the fastest kernel.
import TTSRuntime

extension TransformerLayerWeights {
    func mapLinears(_ f: (Linear) -> Linear) -> TransformerLayerWeights {
        TransformerLayerWeights(inputNorm: inputNorm, postNorm: postNorm, q: f(q), k: f(k), v: f(v), o: f(o),
                                qNorm: qNorm, kNorm: kNorm, gate: f(gate), up: f(up), down: f(down),
                                attentionScale: attentionScale, mlpScale: mlpScale)
    }
}

extension TransformerStack {
    func mapLinears(_ f: (Linear) -> Linear) -> TransformerStack {
        TransformerStack(shape: shape, layers: layers.map { $0.mapLinears(f) }, finalNorm: finalNorm)
    }
}

extension Talker {
    /// Applies `f` to the layers' linears and the codec head; embeddings (read a row at a time)
    /// and the text projection (prompt only) are left as they are.
    func mapLinears(_ f: (Linear) -> Linear) -> Talker {
        Talker(stack: stack.mapLinears(f), textEmbedding: textEmbedding, textFC1: textFC1, textFC2: textFC2,
               codecEmbedding: codecEmbedding, codecHead: f(codecHead))
    }
}

extension CodePredictor {
    func mapLinears(_ f: (Linear) -> Linear) -> CodePredictor {
        CodePredictor(stack: stack.mapLinears(f), projection: projection.map(f), embeddings: embeddings, heads: heads.map(f))
    }
}

/// Applies `transform` to every generation linear of the talker and code predictor, the
/// matrices in parallel on `pool` (re-encoding and repacking are per matrix and independent).
func transformGenerationWeights(_ talker: Talker, _ predictor: CodePredictor, pool: ThreadPool,
                                _ transform: @escaping (Linear) -> Linear) -> (Talker, CodePredictor) {
    var originals: [Linear] = []
    _ = talker.mapLinears { originals.append($0); return $0 }
    _ = predictor.mapLinears { originals.append($0); return $0 }
    let results = UnsafeMutablePointer<Linear?>.allocate(capacity: originals.count)
    results.initialize(repeating: nil, count: originals.count)
    defer {
        results.deinitialize(count: originals.count)
        results.deallocate()
    }
    let inputs = originals
    pool.parallelFor(inputs.count) { i in results[i] = transform(inputs[i]) }
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
