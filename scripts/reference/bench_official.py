#!/usr/bin/env python3
"""Times the official qwen-tts code on a checkpoint, phase by phase, for a fixed number of frames,
so docs/BENCHMARKS.md can show it beside `qwen3-tts bench` on the same checkpoint.

    python scripts/reference/bench_official.py --model /tmp/qwen3-tts-0.6b-random --frames 100 --threads 2

EOS is replaced by a suppressed codec id, so exactly --frames frames are generated. f32 weights
(bf16 matmuls are slower on CPUs without AMX in PyTorch), eager attention. Prints one JSON line
with the same keys as `qwen3-tts bench model --json`.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as fx  # noqa: E402,F401  (installs the import stand-ins qwen_tts needs)

TEXT = "The quick brown fox jumps over the lazy dog, and then it runs far away into the quiet green forest."


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from qwen_tts import Qwen3TTSModel

    t0 = time.perf_counter()
    wrapper = fx.load_official(args.model)
    load_s = time.perf_counter() - t0
    model = wrapper.model
    speakers = sorted(model.config.talker_config.spk_id.keys())
    timers = {"cp": 0.0, "talker_calls": [], "decode": 0.0}

    cp = model.talker.code_predictor
    cp_generate = cp.generate

    def timed_cp_generate(*a, **k):
        s = time.perf_counter()
        out = cp_generate(*a, **k)
        timers["cp"] += time.perf_counter() - s
        return out
    cp.generate = timed_cp_generate

    def pre(mod, args_, kwargs):
        timers["start"] = time.perf_counter()

    def post(mod, args_, kwargs, out):
        timers["talker_calls"].append(time.perf_counter() - timers["start"])
    model.talker.register_forward_pre_hook(pre, with_kwargs=True)
    model.talker.register_forward_hook(post, with_kwargs=True)

    st = model.speech_tokenizer
    st_decode = st.decode

    def timed_decode(*a, **k):
        s = time.perf_counter()
        out = st_decode(*a, **k)
        timers["decode"] += time.perf_counter() - s
        return out
    st.decode = timed_decode

    never = model.config.talker_config.vocab_size - 1  # suppressed, so never sampled
    results = []
    for run in range(args.runs + 1):  # the first run warms up
        timers.update(cp=0.0, talker_calls=[], decode=0.0)
        s = time.perf_counter()
        kwargs = dict(max_new_tokens=args.frames + 1, eos_token_id=never)
        if speakers:
            wavs, sr = wrapper.generate_custom_voice(text=TEXT, language="english", speaker=speakers[0], **kwargs)
        else:
            wavs, sr = wrapper.generate_voice_design(text=TEXT, language="english", instruct="", **kwargs)
        total = time.perf_counter() - s
        frames = len(wavs[0]) // 1920
        audio_s = len(wavs[0]) / sr
        calls = timers["talker_calls"]
        talker_steps = sum(calls[1:]) - timers["cp"]  # each step's forward includes the code predictor
        results.append({
            "prefill_ms": calls[0] * 1000,
            "talker_ms_per_step": talker_steps / frames * 1000,
            "code_predictor_ms_per_frame": timers["cp"] / frames * 1000,
            "generation_ms_per_frame": (talker_steps + timers["cp"]) / frames * 1000,
            "decoder_s_per_audio_s": timers["decode"] / audio_s,
            "rtf": total / audio_s,
            "frames": frames,
        })
        if run == 0:
            results.clear()
    median = {k: sorted(r[k] for r in results)[len(results) // 2] for k in results[0]}
    median.update(load_s=load_s, threads=args.threads, implementation="qwen-tts 0.1.1 (PyTorch %s, f32)" % torch.__version__)
    print(json.dumps(median, sort_keys=True))


if __name__ == "__main__":
    main()
