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
