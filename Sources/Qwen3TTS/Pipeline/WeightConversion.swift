// Storing the generation weights (talker and code-predictor linears and heads) as another type.
import TTSRuntime

extension TransformerLayerWeights {
    func converted(to t: WeightType) -> TransformerLayerWeights {
        TransformerLayerWeights(inputNorm: inputNorm, postNorm: postNorm,
                                q: q.converted(to: t), k: k.converted(to: t), v: v.converted(to: t), o: o.converted(to: t),
                                qNorm: qNorm, kNorm: kNorm,
                                gate: gate.converted(to: t), up: up.converted(to: t), down: down.converted(to: t),
                                attentionScale: attentionScale, mlpScale: mlpScale)
    }
}

extension TransformerStack {
    func converted(to t: WeightType) -> TransformerStack {
        TransformerStack(shape: shape, layers: layers.map { $0.converted(to: t) }, finalNorm: finalNorm)
    }
}

extension Talker {
    /// Layers and codec head as `t`; embeddings (read a row at a time) and the text projection
    /// (prompt only) keep their stored type.
    func converted(to t: WeightType) -> Talker {
        Talker(stack: stack.converted(to: t), textEmbedding: textEmbedding, textFC1: textFC1, textFC2: textFC2,
               codecEmbedding: codecEmbedding, codecHead: codecHead.converted(to: t))
    }
}

extension CodePredictor {
    func converted(to t: WeightType) -> CodePredictor {
        CodePredictor(stack: stack.converted(to: t), projection: projection?.converted(to: t), embeddings: embeddings,
                      heads: heads.map { $0.converted(to: t) })
    }
}
