#!/usr/bin/env python3
"""Golden x-vectors from the official speaker encoder (qwen-tts 0.1.1) at a reduced width.

Builds Qwen3TTSSpeakerEncoder with a small config (the real structure: an initial TDNN, three
SE-Res2Net blocks with dilations 2/3/4, multi-layer aggregation, attentive statistics pooling,
the final 1x1 projection) and seeded random weights, runs it in f32 on the log-mel fixture of
mel_fixture.py, and writes the weights (checkpoint names, under `speaker_encoder.`), the config,
every block's output and the x-vector to Tests/Qwen3TTSTests/Fixtures/speaker_encoder/.
"""
import hashlib
import json
import pathlib

import torch
from safetensors.torch import load_file, save_file

import qwen_tts_stubs  # noqa: F401  (before qwen_tts)
from qwen_tts.core.models.configuration_qwen3_tts import Qwen3TTSSpeakerEncoderConfig
from qwen_tts.core.models.modeling_qwen3_tts import Qwen3TTSSpeakerEncoder

REPO = pathlib.Path(__file__).resolve().parents[2]
MEL = REPO / "Tests/TTSRuntimeTests/Resources/mel/mel.safetensors"
OUT = REPO / "Tests/Qwen3TTSTests/Fixtures/speaker_encoder"
CONFIG = {"mel_dim": 128, "enc_dim": 48, "enc_channels": [64, 64, 64, 64, 192],
          "enc_kernel_sizes": [5, 3, 3, 3, 1], "enc_dilations": [1, 2, 3, 4, 1],
          "enc_attention_channels": 16, "enc_res2net_scale": 8, "enc_se_channels": 16}


def main() -> None:
    torch.manual_seed(20261126)
    encoder = Qwen3TTSSpeakerEncoder(Qwen3TTSSpeakerEncoderConfig(**CONFIG)).float().eval()
    with torch.no_grad():
        for p in encoder.parameters():
            p.copy_(torch.randn_like(p) * (1.0 / max(1, p.shape[1] * (p.shape[2] if p.dim() == 3 else 1)) ** 0.5 if p.dim() > 1 else 0.1))
    mel = load_file(str(MEL))["log_mel"]  # [frames, 128]
    outputs = {}
    hooks = [block.register_forward_hook(lambda m, i, o, k=f"block{j}": outputs.__setitem__(k, o[0].T.contiguous()))
             for j, block in enumerate(encoder.blocks)]
    with torch.no_grad():
        xvector = encoder(mel.unsqueeze(0))[0]
    for h in hooks:
        h.remove()
    out = OUT
    out.mkdir(parents=True, exist_ok=True)
    tensors = {f"speaker_encoder.{k}": v.contiguous() for k, v in encoder.state_dict().items()}
    tensors.update({f"expected.{k}": v for k, v in outputs.items()})
    tensors["expected.xvector"] = xvector.contiguous()
    path = out / "speaker_encoder.safetensors"
    save_file(tensors, str(path))
    manifest = {"generator": "scripts/reference/speaker_encoder_fixture.py",
                "class": "qwen_tts.core.models.modeling_qwen3_tts.Qwen3TTSSpeakerEncoder",
                "config": CONFIG, "input": "Tests/TTSRuntimeTests/Resources/mel/mel.safetensors:log_mel", "torch": torch.__version__,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(len(tensors), "tensors; x-vector", list(xvector.shape))


if __name__ == "__main__":
    main()
