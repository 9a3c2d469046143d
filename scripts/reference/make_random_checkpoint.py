#!/usr/bin/env python3
"""A full-size random-weight Qwen3-TTS-12Hz checkpoint for benchmarking (never for audio quality).

Real shapes, real file layout and tensor names (spec §2, §10): config.json, generation_config.json,
model.safetensors (bf16, as published), the real Qwen vocabulary files, speech_tokenizer/ (f32).
Weights are random with the same informative scales as the test fixtures.

    python scripts/reference/make_random_checkpoint.py --size 0.6b --out /tmp/qwen3-tts-0.6b-random
    python scripts/reference/make_random_checkpoint.py --size 1.7b --out /tmp/qwen3-tts-1.7b-random
    python scripts/reference/make_random_checkpoint.py --size 0.6b --kind base --out /tmp/qwen3-tts-0.6b-base-random

Base checkpoints add the speaker encoder at its shipped shape (enc_dim = the talker width).

Needs the pinned reference environment (requirements.txt) and the vocabulary derived by
qwen_vocab.py (committed under Tests/TTSTokenizersTests/Resources/qwen).
"""
import argparse
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as fx  # noqa: E402  (also installs the import stand-ins qwen_tts needs)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VOCAB_DIR = os.path.join(ROOT, "Tests", "TTSTokenizersTests", "Resources", "qwen")


def talker_config(size):
    hidden, inter = (1024, 3072) if size == "0b6" else (2048, 6144)
    cfg = fx.talker_config(hidden, 151936, 1024, True)
    cfg.update({"hidden_size": hidden, "intermediate_size": inter, "num_hidden_layers": 28,
                "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128,
                "text_hidden_size": 2048,
                "rope_scaling": {"interleaved": True, "mrope_section": [24, 20, 20],
                                 "rope_type": "default", "type": "default"}})
    cfg["code_predictor_config"].update({
        "hidden_size": 1024, "intermediate_size": 3072, "num_hidden_layers": 5,
        "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128,
        "layer_types": ["full_attention"] * 5})
    return cfg


SPEECH = {
    **fx.SPEECH_TOKENIZER_CONFIG,
    "decoder_config": {**fx.SPEECH_TOKENIZER_CONFIG["decoder_config"],
                       "latent_dim": 1024, "codebook_dim": 512, "decoder_dim": 1536,
                       "hidden_size": 512, "intermediate_size": 1024, "num_hidden_layers": 8,
                       "num_attention_heads": 16, "num_key_value_heads": 16, "head_dim": 64},
    "encoder_config": {**fx.SPEECH_TOKENIZER_CONFIG["encoder_config"],
                       "num_filters": 64, "hidden_size": 512, "num_hidden_layers": 8,
                       "num_attention_heads": 8, "num_key_value_heads": 8, "head_dim": 64,
                       "intermediate_size": 2048, "num_quantizers": 32, "codebook_dim": 256,
                       "vector_quantization_hidden_dimension": 256, "upsample_groups": 512},
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", choices=["0.6b", "1.7b"], required=True)
    ap.add_argument("--kind", choices=["custom_voice", "voice_design", "base"], default="custom_voice")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    size = "0b6" if args.size == "0.6b" else "1b7"
    from qwen_tts.core.models.configuration_qwen3_tts import Qwen3TTSConfig
    from qwen_tts.core.models.modeling_qwen3_tts import Qwen3TTSForConditionalGeneration
    from qwen_tts.core.tokenizer_12hz.configuration_qwen3_tts_tokenizer_v2 import Qwen3TTSTokenizerV2Config
    from qwen_tts.core.tokenizer_12hz.modeling_qwen3_tts_tokenizer_v2 import Qwen3TTSTokenizerV2Model

    os.makedirs(os.path.join(args.out, "speech_tokenizer"), exist_ok=True)
    gen = torch.Generator().manual_seed(fx.SEED)
    vocab = {"<|im_start|>": 151644, "<|im_end|>": 151645, "assistant": 77091, "<tts_pad>": 151671,
             "<tts_text_bos>": 151672, "<tts_text_eod>": 151673, "__size__": 151936}
    cfg_json = fx.main_config(args.kind, size, 0, 0, vocab)
    cfg_json["talker_config"] = talker_config(size)
    if args.kind != "custom_voice":
        cfg_json["talker_config"]["spk_id"] = {}
        cfg_json["talker_config"]["spk_is_dialect"] = {}
    if args.kind == "base":
        cfg_json["speaker_encoder_config"] = {"enc_dim": cfg_json["talker_config"]["hidden_size"], "sample_rate": 24000}
    drop = ("architectures", "model_type", "transformers_version")
    model = Qwen3TTSForConditionalGeneration(Qwen3TTSConfig(**{k: v for k, v in cfg_json.items() if k not in drop})).eval()
    fx.randomize(model, gen)
    fx.save_safetensors(model, os.path.join(args.out, "model.safetensors"), torch.bfloat16)
    del model
    fx.write_json(os.path.join(args.out, "config.json"), cfg_json)
    fx.write_json(os.path.join(args.out, "generation_config.json"), fx.GENERATION_CONFIG)
    for f in ("vocab.json", "merges.txt", "tokenizer_config.json"):
        shutil.copy(os.path.join(VOCAB_DIR, f), args.out)

    st = Qwen3TTSTokenizerV2Model(Qwen3TTSTokenizerV2Config(**{k: v for k, v in SPEECH.items() if k not in drop})).eval()
    fx.randomize(st, gen)
    fx.randomize_encoder_codebooks(st)
    fx.save_safetensors(st, os.path.join(args.out, "speech_tokenizer", "model.safetensors"), torch.float32)
    fx.write_json(os.path.join(args.out, "speech_tokenizer", "config.json"), SPEECH)
    fx.write_json(os.path.join(args.out, "speech_tokenizer", "preprocessor_config.json"), {
        "feature_extractor_type": "EncodecFeatureExtractor", "feature_size": 1, "padding_side": "right",
        "padding_value": 0.0, "return_attention_mask": True, "sampling_rate": 24000})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
