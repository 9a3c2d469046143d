#!/usr/bin/env python3
"""Golden stage outputs and reference codes from the official speech tokenizer encoder.

1. Gives the shared fixture speech tokenizer (Tests/Qwen3TTSTests/Fixtures/checkpoints/
   speech_tokenizer) random encoder codebooks: make_fixtures.py's `randomize` only touches
   parameters, and the Mimi codebooks are buffers, so they were all zero. Every other tensor is
   checked to stay bit for bit as it was, and manifest.json's hash of the file is updated.
2. Loads that directory with the official `qwen_tts.Qwen3TTSTokenizer` (f32) and encodes the 24 kHz
   audio of the mel fixture and a shorter cut of it (30000 and 23000 samples: neither is a whole
   number of 1920-sample frames, so the last frame's padding is exercised), recording the SEANet
   output, the transformer output, the downsampled embeddings and the codes, plus the smallest
   gap between the best and second-best centroid distance over all quantizer levels.
3. Writes Tests/Qwen3TTSTests/Fixtures/speech_encoder/{stages.safetensors,manifest.json}.

Run after make_fixtures.py and before base_fixture.py, in the same pinned environment.
"""
import hashlib
import json
import os
import pathlib
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (also installs the qwen_tts import stand-ins)

REPO = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests/Qwen3TTSTests/Fixtures"
TOKENIZER = FIXTURES / "checkpoints/speech_tokenizer"
AUDIO = REPO / "Tests/TTSRuntimeTests/Resources/mel/mel.safetensors"
OUT = FIXTURES / "speech_encoder"
LENGTHS = [30000, 23000]


def reseed_codebooks() -> None:
    from qwen_tts.core.tokenizer_12hz.configuration_qwen3_tts_tokenizer_v2 import Qwen3TTSTokenizerV2Config
    from qwen_tts.core.tokenizer_12hz.modeling_qwen3_tts_tokenizer_v2 import Qwen3TTSTokenizerV2Model
    path = TOKENIZER / "model.safetensors"
    before = load_file(str(path))
    cfg = json.loads((TOKENIZER / "config.json").read_text())
    model = Qwen3TTSTokenizerV2Model(Qwen3TTSTokenizerV2Config(
        **{k: v for k, v in cfg.items() if k not in ("architectures", "model_type", "transformers_version")})).eval()
    missing, unexpected = model.load_state_dict(before, strict=False)
    if unexpected or any(not k.endswith("inv_freq") for k in missing):
        raise SystemExit(f"state mismatch: missing {missing}, unexpected {unexpected}")
    mf.randomize_encoder_codebooks(model)
    mf.save_safetensors(model, str(path), torch.float32)
    after = load_file(str(path))
    assert set(after) == set(before)
    for k, v in after.items():
        changed = not torch.equal(v, before[k])
        codebook = k.startswith("encoder.quantizer.") and (k.endswith("embed_sum") or k.endswith("cluster_usage"))
        if changed != (codebook and not torch.equal(before[k], v)) or (changed and not codebook):
            raise SystemExit(f"{k} changed unexpectedly")
    manifest_path = FIXTURES / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["sha256"]["checkpoints/speech_tokenizer/model.safetensors"] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest["encoder_codebooks"] = {"generator": "make_fixtures.randomize_encoder_codebooks",
                                     "seed": mf.ENCODER_CODEBOOK_SEED}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


def smallest_gap(quantizer, embeddings) -> float:
    """Smallest (second-best - best) squared distance, in float64, over every level's choice."""
    gap = float("inf")
    for rvq, levels in ((quantizer.semantic_residual_vector_quantizer, 1),
                        (quantizer.acoustic_residual_vector_quantizer, None)):
        x = rvq.input_proj(embeddings)[0].T.double()  # [T, D]
        layers = rvq.layers if levels is None else rvq.layers[:levels]
        for layer in layers:
            centroids = layer.codebook.embed.double()
            d = torch.cdist(x, centroids) ** 2
            two = torch.topk(d, 2, largest=False).values
            gap = min(gap, float((two[:, 1] - two[:, 0]).min()))
            x = x - centroids[d.argmin(dim=-1)]
    return gap


def main() -> None:
    from qwen_tts import Qwen3TTSTokenizer
    reseed_codebooks()
    tok = Qwen3TTSTokenizer.from_pretrained(str(TOKENIZER), dtype=torch.float32)
    enc = tok.model.encoder
    audio = load_file(str(AUDIO))["audio"].numpy().astype(np.float32)
    tensors, cases = {}, []
    for n in LENGTHS:
        out = {}
        hooks = [
            enc.encoder.register_forward_hook(lambda m, a, o: out.__setitem__("seanet", o[0].T)),
            enc.encoder_transformer.register_forward_hook(
                lambda m, a, o: out.__setitem__("transformer", o[0][0] if isinstance(o, tuple) else o.last_hidden_state[0])),
            enc.downsample.register_forward_hook(lambda m, a, o: out.__setitem__("downsample", o[0].T)),
        ]
        codes = tok.encode(audio[:n], sr=24000).audio_codes[0]  # [frames, 16]
        for h in hooks:
            h.remove()
        with torch.no_grad():
            gap = smallest_gap(enc.quantizer, out["downsample"].T.unsqueeze(0))
        for k, v in out.items():
            tensors[f"{n}.{k}"] = v.detach().float().contiguous()
        tensors[f"{n}.audio"] = torch.from_numpy(audio[:n].copy())
        tensors[f"{n}.codes"] = codes.to(torch.int32).contiguous()
        cases.append({"samples": n, "frames": int(codes.shape[0]), "smallest_distance_gap": gap})
        print(f"{n} samples: {codes.shape[0]} frames, smallest distance gap {gap:.3g}")
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "stages.safetensors"
    save_file(tensors, str(path))
    manifest = {"generator": "scripts/reference/speech_encoder_fixture.py",
                "class": "qwen_tts.Qwen3TTSTokenizer (Qwen3TTSTokenizerV2Model.encode)",
                "checkpoint": "checkpoints/speech_tokenizer", "audio": "Tests/TTSRuntimeTests/Resources/mel/mel.safetensors:audio",
                "cases": cases, "torch": torch.__version__,
                "sha256": {"stages.safetensors": hashlib.sha256(path.read_bytes()).hexdigest()}}
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
