#!/usr/bin/env python3
"""Golden cases that end by end of speech (EOS), from the official code.

With random weights the EOS row of the talker's codec_head almost never wins the greedy argmax
(80 tries of up to 60 frames found none), so every case of make_fixtures.py stops at its frame
cap and stopping at EOS went untested. This script derives two checkpoints whose EOS row is
changed, as little as possible, so that EOS wins at a chosen step of chosen cases:

  tiny-cv-1b7-eos    tiny-cv-1b7 (bf16) with a new EOS row: a non-streaming and a streaming case
  tiny-base-0b6-eos  tiny-base-0b6 rounded to bf16 (to keep the repository small), new EOS row:
                     an in-context voice clone in the streaming layout

How the row is found: the case is run once with the unchanged weights, recording at each step
the codec_head input h_t and the best logit m_t among the allowed codes (after the repetition
penalty; EOS is never in the history, so the penalty never touches it). The trajectory up to the
first EOS does not depend on the EOS row, so a row v with v.h_t <= m_t - 0.25 for the steps where
EOS is allowed (t >= 2) before the target step T and v.h_T >= m_T + 0.25 makes the greedy run end
at T. One case also asks v.h_t >= m_t + 0.25 at steps 0 and 1, where the official code masks EOS:
an engine without that mask would stop there. The smallest change of the original row meeting those equalities is a least-squares
solution. The row is rounded to bf16, saved, and the cases are then recorded by running the
official loader on the saved directory, exactly like make_fixtures.py (run_case), which also
checks that EOS won at T with a greedy margin of at least 1e-4.

Run after make_fixtures.py, base_fixture.py and speech_encoder_fixture.py, in the same pinned
environment:
    python scripts/reference/eos_fixture.py
"""
import hashlib
import json
import os
import pathlib
import shutil
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (also installs the qwen_tts import stand-ins)

REPO = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests/Qwen3TTSTests/Fixtures"
AUDIO = REPO / "Tests/TTSRuntimeTests/Resources/mel/mel.safetensors"
EOS = 2150
MARGIN = 0.25
# (case name, source checkpoint, derived checkpoint, text, language, speaker, instruct,
#  non_streaming_mode, reference text (clone cases) or None, steps among the first two (where the
#  official code masks EOS) at which EOS must have the highest raw logit, so that a missing mask
#  would stop there, the step at which EOS must win)
CASES = [
    ("eos-cv1-ryan-nonstream", "tiny-cv-1b7", "tiny-cv-1b7-eos", "It stops when it is done.", "english", "ryan",
     None, True, None, [0, 1], 9),
    ("eos-cv1-vivian-stream", "tiny-cv-1b7", "tiny-cv-1b7-eos", "说完就停。", "chinese", "vivian",
     None, False, None, [], 11),
    ("base-eos-icl-stream", "tiny-base-0b6", "tiny-base-0b6-eos", "A cloned voice that finishes early.", "english",
     None, None, False, "A chirp and two tones.", [1], 10),
]


def generator_for(wrapper, case, audio):
    """The voice-clone call for clone cases (as base_fixture.py makes it), else None."""
    name, _, _, text, language, _, _, _, ref_text, _, _ = case
    if ref_text is None:
        return None
    prompt = wrapper.create_voice_clone_prompt(ref_audio=(audio, 24000), ref_text=ref_text, x_vector_only_mode=False)

    def clone(**kwargs):
        return wrapper.generate_voice_clone(text=text, language=language, voice_clone_prompt=prompt, **kwargs)
    return clone


def run_case(wrapper, case, audio):
    name, _, ckpt, text, language, speaker, instruct, non_streaming, _, _, _ = case
    return mf.run_case(wrapper, (name, ckpt, text, language, speaker, instruct, non_streaming),
                       generate=generator_for(wrapper, case, audio))


def trajectory(wrapper, case, audio):
    """Per step: the codec_head input and the best allowed logit other than EOS (after penalty)."""
    head = wrapper.model.talker.codec_head
    seen = []
    hook = head.register_forward_hook(lambda m, a, o: seen.append((a[0][0, -1].detach().double().clone(),
                                                                    o[0, -1].detach().double().clone())))
    try:
        meta, _ = run_case(wrapper, case, audio)
    finally:
        hook.remove()
    history = [f[0] for f in meta["codes"]]
    steps = []
    for t, (h, logits) in enumerate(seen[:len(history) + 1]):
        l = logits.clone()
        for tok in set(history[:t]):
            l[tok] = l[tok] * 1.05 if l[tok] < 0 else l[tok] / 1.05
        steps.append((h, float(l[:2048].max())))
    return meta, steps


def eos_row(original, constraints):
    """The row closest to `original` with v.h = target for every (h, target)."""
    H = torch.stack([h for h, _ in constraints])
    b = torch.tensor([t for _, t in constraints], dtype=torch.float64)
    if torch.linalg.matrix_rank(H) < len(constraints):
        raise SystemExit("constraints are linearly dependent; choose other target steps")
    delta = H.T @ torch.linalg.solve(H @ H.T, b - H @ original)
    return original + delta


def derive(source, target, cases, audio):
    src = FIXTURES / "checkpoints" / source
    dst = FIXTURES / "checkpoints" / target
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.name in ("model.safetensors", "speech_tokenizer"):
            continue
        shutil.copy(f, dst / f.name)
    os.symlink("../speech_tokenizer", dst / "speech_tokenizer")
    # The weights rounded to bf16 first (a no-op for a bf16 source), so the trajectories below are
    # those of the saved model.
    state = {k: v.to(torch.bfloat16) for k, v in load_file(str(src / "model.safetensors")).items()}
    save_file(state, str(dst / "model.safetensors"), metadata={"format": "pt"})
    wrapper = mf.load_official(str(dst))
    constraints = []
    for case in cases:
        meta, steps = trajectory(wrapper, case, audio)
        T = case[-1]
        if len(steps) <= T:
            raise SystemExit(f"{case[0]}: only {len(steps)} steps recorded; the target step {T} is beyond them")
        for t in case[-2]:
            constraints.append((steps[t][0], steps[t][1] + MARGIN))
        for t in range(2, T):
            constraints.append((steps[t][0], steps[t][1] - MARGIN))
        constraints.append((steps[T][0], steps[T][1] + MARGIN))
    key = "talker.codec_head.weight"
    row = eos_row(state[key][EOS].double(), constraints)
    state[key][EOS] = row.to(torch.bfloat16)
    save_file(state, str(dst / "model.safetensors"), metadata={"format": "pt"})
    return dst


def main() -> None:
    audio = load_file(str(AUDIO))["audio"].numpy().astype(np.float32)
    summary = []
    files = []
    for source, target in sorted({(c[1], c[2]) for c in CASES}):
        cases = [c for c in CASES if c[2] == target]
        d = derive(source, target, cases, audio)
        files += [p for p in d.iterdir() if p.is_file() and not p.is_symlink()]
        wrapper = mf.load_official(str(d))  # the saved weights, as the tests load them
        for case in cases:
            name, T = case[0], case[-1]
            meta, tensors = run_case(wrapper, case, audio)
            if meta["frames"] != T:
                raise SystemExit(f"{name}: ended after {meta['frames']} frames, not by EOS at step {T}")
            if meta["min_greedy_margin"] < mf.MIN_MARGIN:
                raise SystemExit(f"{name}: greedy margin {meta['min_greedy_margin']:.3g} < {mf.MIN_MARGIN}")
            meta["ends_by"] = "eos"
            meta["eos_masked_top_steps"] = case[-2]
            if case[8] is not None:
                prompt_ids = wrapper._tokenize_texts([wrapper._build_ref_text(case[8])])[0][0].tolist()
                meta["reference_audio"] = "Tests/TTSRuntimeTests/Resources/mel/mel.safetensors:audio"
                meta["reference_text"] = case[8]
                meta["reference_ids"] = prompt_ids
                prompt = wrapper.create_voice_clone_prompt(ref_audio=(audio, 24000), ref_text=case[8], x_vector_only_mode=False)
                tensors["xvector"] = prompt[0].ref_spk_embedding.float()
                tensors["ref_codes"] = prompt[0].ref_code.to(torch.int32).contiguous()
            mf.write_json(str(FIXTURES / "cases" / f"{name}.json"), meta)
            save_file({k: v.contiguous() for k, v in tensors.items()}, str(FIXTURES / "cases" / f"{name}.safetensors"))
            files += [FIXTURES / "cases" / f"{name}.json", FIXTURES / "cases" / f"{name}.safetensors"]
            summary.append({"name": name, "frames": meta["frames"], "ends_by": "eos",
                            "min_greedy_margin": meta["min_greedy_margin"]})
            print(f"{name}: EOS after {meta['frames']} frames, min margin {meta['min_greedy_margin']:.4g}")
    manifest = {"generator": "scripts/reference/eos_fixture.py", "eos_margin": MARGIN, "cases": summary,
                "sha256": {str(p.relative_to(FIXTURES)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(files)}}
    (FIXTURES / "eos_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
