#!/usr/bin/env python3
"""A tiny Base checkpoint and voice-clone cases from the official code.

Adds Tests/Qwen3TTSTests/Fixtures/checkpoints/tiny-base-0b6 (the layout of the other fixture
checkpoints, with a reduced speaker encoder whose x-vector has the talker's width) beside the
existing ones, sharing their speech tokenizer, and runs `generate_voice_clone` greedily on the
24 kHz audio of the mel fixture: x-vector only (base-xvec-*) and in context (base-icl-*, with a
reference transcript; the reference codes come from the official speech tokenizer encoder, so run
speech_encoder_fixture.py first). Writes each case (codes, prefill embeddings, activations,
logits, waveform) like make_fixtures.py, plus the official x-vector and, for ICL, the reference
codes and ids, to Fixtures/cases/base-*.{json,safetensors}, and a manifest.
Run after make_fixtures.py and speech_encoder_fixture.py, in the same pinned environment.
"""
import hashlib
import json
import os
import pathlib
import shutil
import sys
import tempfile

import numpy as np
import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (also installs the qwen_tts import stand-ins)

REPO = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests/Qwen3TTSTests/Fixtures"
AUDIO = REPO / "Tests/TTSRuntimeTests/Resources/mel/mel.safetensors"
NAME = "tiny-base-0b6"
SPEAKER_ENCODER = {"mel_dim": 128, "enc_dim": 16, "enc_channels": [32, 32, 32, 32, 96],
                   "enc_kernel_sizes": [5, 3, 3, 3, 1], "enc_dilations": [1, 2, 3, 4, 1],
                   "enc_attention_channels": 8, "enc_res2net_scale": 4, "enc_se_channels": 8,
                   "sample_rate": 24000}
# (case name, checkpoint, text, language, speaker, instruct, non_streaming_mode, reference text or
# None for x-vector only). The ICL cases cover the streaming layout with text trailing past the
# 17 reference positions, the streaming layout padded with tts_pad, and the non-streaming layout.
CASES = [
    ("base-xvec-english-stream", NAME, "Cloned voices speak new words.", "english", None, None, False, None),
    ("base-xvec-auto", NAME, "Una voz clonada, sin idioma.", "auto", None, None, True, None),
    ("base-icl-english-stream", NAME, "The clone goes on speaking with a longer sentence than its reference.",
     "english", None, None, False, "A chirp and two tones."),
    ("base-icl-short-stream", NAME, "Short.", "auto", None, None, False, "Tones."),
    ("base-icl-chinese-nonstream", NAME, "你好，这是克隆的声音。", "chinese", None, None, True, "参考音频。"),
]


def build(gen):
    from qwen_tts.core.models.configuration_qwen3_tts import Qwen3TTSConfig
    from qwen_tts.core.models.modeling_qwen3_tts import Qwen3TTSForConditionalGeneration
    d = FIXTURES / "checkpoints" / NAME
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        vocab_files, vocab = mf.build_tiny_vocab(tmp)
        cfg_json = mf.main_config("base", "0b6", 16, 16, vocab)
        cfg_json["speaker_encoder_config"] = SPEAKER_ENCODER
        cfg = Qwen3TTSConfig(**{k: v for k, v in cfg_json.items()
                                if k not in ("architectures", "model_type", "transformers_version")})
        model = Qwen3TTSForConditionalGeneration(cfg).eval()
        mf.randomize(model, gen)
        mf.save_safetensors(model, str(d / "model.safetensors"), torch.float32)
        mf.write_json(str(d / "config.json"), cfg_json)
        mf.write_json(str(d / "generation_config.json"), mf.GENERATION_CONFIG)
        for f in vocab_files:
            shutil.copy(f, d)
    os.symlink("../speech_tokenizer", d / "speech_tokenizer")
    return d


def main() -> None:
    gen = torch.Generator().manual_seed(mf.SEED + 7)
    torch.manual_seed(mf.SEED + 7)
    d = build(gen)
    wrapper = mf.load_official(str(d))
    audio = load_file(str(AUDIO))["audio"].numpy().astype(np.float32)
    xvector = wrapper.model.extract_speaker_embedding(audio=audio, sr=24000).float()
    summary = []
    for case in CASES:
        name, _, text, language, _, _, non_streaming, ref_text = case
        prompt = wrapper.create_voice_clone_prompt(ref_audio=(audio, 24000), ref_text=ref_text,
                                                   x_vector_only_mode=ref_text is None)

        def clone(**kwargs):
            return wrapper.generate_voice_clone(text=text, language=language, voice_clone_prompt=prompt, **kwargs)
        meta, tensors = mf.run_case(wrapper, case[:7], generate=clone)
        if meta["frames"] < 20 or meta["min_greedy_margin"] < mf.MIN_MARGIN:
            raise SystemExit(f"{name}: {meta['frames']} frames, margin {meta['min_greedy_margin']:.3g}; change its text")
        meta["reference_audio"] = "Tests/TTSRuntimeTests/Resources/mel/mel.safetensors:audio"
        tensors["xvector"] = xvector
        if not torch.equal(prompt[0].ref_spk_embedding.float(), xvector):
            raise SystemExit(f"{name}: the prompt's x-vector differs from extract_speaker_embedding's")
        if ref_text is not None:
            meta["reference_text"] = ref_text
            meta["reference_ids"] = wrapper._tokenize_texts([wrapper._build_ref_text(ref_text)])[0][0].tolist()
            tensors["ref_codes"] = prompt[0].ref_code.to(torch.int32).contiguous()
        mf.write_json(str(FIXTURES / "cases" / f"{name}.json"), meta)
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(FIXTURES / "cases" / f"{name}.safetensors"))
        summary.append({"name": name, "frames": meta["frames"], "min_greedy_margin": meta["min_greedy_margin"]})
        print(f"{name}: {meta['frames']} frames, min margin {meta['min_greedy_margin']:.4g}")
    files = sorted(p for p in [*(d.glob("*")), *(FIXTURES / "cases").glob("base-*")] if p.is_file())
    manifest = {"generator": "scripts/reference/base_fixture.py", "seed": mf.SEED + 7,
                "speaker_encoder_config": SPEAKER_ENCODER, "cases": summary,
                "sha256": {str(p.relative_to(FIXTURES)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}}
    (FIXTURES / "base_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
