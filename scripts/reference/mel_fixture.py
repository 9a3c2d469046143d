#!/usr/bin/env python3
"""Golden log-mel features from the official speaker-encoder front end (qwen-tts 0.1.1).

Runs qwen_tts's own `mel_spectrogram` with the arguments `extract_speaker_embedding` passes
(n_fft 1024, 128 mels, 24 kHz, hop 256, window 1024, fmin 0, fmax 12000) on a deterministic
1.25 s test signal (a chirp, two tones and seeded noise) and writes input and output to
Tests/TTSRuntimeTests/Resources/mel/mel.safetensors with a manifest (versions, sha256).
Usage: python scripts/reference/mel_fixture.py  (in the pinned environment of requirements.txt)
"""
import hashlib
import json
import pathlib

import numpy as np
import torch
from safetensors.torch import save_file

import qwen_tts_stubs  # noqa: F401  (before qwen_tts)
import qwen_tts
from qwen_tts.core.models.modeling_qwen3_tts import mel_spectrogram

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/TTSRuntimeTests/Resources/mel"


def signal() -> np.ndarray:
    sr, n = 24000, 30000
    t = np.arange(n) / sr
    chirp = 0.3 * np.sin(2 * np.pi * (80 * t + 0.5 * 4000 * t * t))
    tones = 0.2 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 3150 * t)
    noise = 0.05 * np.random.default_rng(1234).standard_normal(n)
    y = (chirp + tones + noise).astype(np.float32)
    y[:2400] *= np.linspace(0, 1, 2400, dtype=np.float32)  # a fade-in, and a quiet tail
    y[-3000:] = 1e-7
    return y


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    y = signal()
    with torch.no_grad():
        mel = mel_spectrogram(torch.from_numpy(y).unsqueeze(0), n_fft=1024, num_mels=128, sampling_rate=24000,
                              hop_size=256, win_size=1024, fmin=0, fmax=12000).transpose(1, 2)[0]
    path = OUT / "mel.safetensors"
    save_file({"audio": torch.from_numpy(y), "log_mel": mel.contiguous().float()}, str(path))
    manifest = {
        "generator": "scripts/reference/mel_fixture.py",
        "function": "qwen_tts.core.models.modeling_qwen3_tts.mel_spectrogram",
        "arguments": {"n_fft": 1024, "num_mels": 128, "sampling_rate": 24000, "hop_size": 256,
                      "win_size": 1024, "fmin": 0, "fmax": 12000},
        "versions": {"qwen-tts": getattr(qwen_tts, "__version__", "0.1.1"), "torch": torch.__version__,
                     "numpy": np.__version__, "librosa": __import__("librosa").__version__},
        "shapes": {"audio": list(y.shape), "log_mel": list(mel.shape)},
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest["shapes"]))


if __name__ == "__main__":
    main()
