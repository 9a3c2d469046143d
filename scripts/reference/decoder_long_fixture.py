#!/usr/bin/env python3
"""The official speech decoder's waveform for 200 random frames (16 s).

The golden cases are at most 23 frames and decoder_stages.safetensors holds 100 frames decoded
in one pass; this one is long enough (more than twice the 72-frame attention window, and the
25-frame chunks our decode(codes:) runs) to compare chunked and streamed decoding with the
official output. It goes through the wrapper's own path, chunked_decode (one 300-frame chunk
covers it, so the official result is exact, not its long-utterance approximation).
Writes Fixtures/decoder_long.safetensors (codes [16][200] i32, wav [384000] f32) and
Fixtures/decoder_long_manifest.json. Run after make_fixtures.py, in the same pinned environment:
    python scripts/reference/decoder_long_fixture.py
"""
import hashlib
import json
import os
import pathlib
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (also installs the qwen_tts import stand-ins)

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "Tests/Qwen3TTSTests/Fixtures"
FRAMES = 200
SEED = mf.SEED + 23


def main() -> None:
    wrapper = mf.load_official(str(FIXTURES / "checkpoints" / "tiny-cv-0b6"))
    dec = wrapper.model.speech_tokenizer.model.decoder
    gen = torch.Generator().manual_seed(SEED)
    codes = torch.randint(0, 2048, (1, 16, FRAMES), generator=gen)
    with torch.no_grad():
        wav = dec.chunked_decode(codes)[0, 0].float().contiguous()
        dec.double()
        wav64 = dec.chunked_decode(codes)[0, 0]
        dec.float()
    gap = float((wav.double() - wav64).abs().max())
    clipped = float((wav64.abs() >= 1).double().mean())
    print(f"{FRAMES} frames: f32 vs f64 max |d| {gap:.3g}, clipped fraction {clipped:.4f}, peak {float(wav.abs().max()):.3f}")
    if gap > 1e-5 or clipped > 0.01:
        raise SystemExit("the random decoder is too ill-conditioned for this test")
    out = FIXTURES / "decoder_long.safetensors"
    save_file({"codes": codes[0].to(torch.int32).contiguous(), "wav": wav}, str(out))
    manifest = {"generator": "scripts/reference/decoder_long_fixture.py", "seed": SEED, "frames": FRAMES,
                "official_call": "decoder.chunked_decode (chunk 300, left context 25)",
                "f32_vs_f64_max_abs": gap, "clipped_fraction": clipped,
                "sha256": {out.name: hashlib.sha256(out.read_bytes()).hexdigest()}}
    (FIXTURES / "decoder_long_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
