#!/usr/bin/env python3
"""Tokenizer goldens: ids and pre-tokenizer pieces from transformers' Qwen2TokenizerFast.

Usage: python scripts/reference/tokenizer_goldens.py VOCAB_DIR OUT.json
VOCAB_DIR holds vocab.json, merges.txt and tokenizer_config.json (a model directory). The
tokenizer is built from those files as the official wrapper builds it (slow -> fast conversion),
without the Mistral regex patch (spec §6.1). For every string we record the ids, the split pieces
(substrings of the NFC-normalised text between added tokens) and decode(ids).
"""
import json
import sys

from transformers import Qwen2TokenizerFast

EDGE_CASES = [
    "", " ", "  ", "   x", "x   ", "a  b", "a\tb", "\t\tx", "line\nbreak", "two\n\nlines", "cr\r\nlf",
    " \n ", "\n\n\n", "  \n  x", "end \n", "trailing   ", "It's we're they've I'm you'll he'd",
    "IT'S WE'RE", "don't 'quoted' '", "12345", "3.14159", "1,000,000", "a1b2c3", "２０２６年",
    "Hello, world!!!", "...", "?!\n\nNext", " (parens) [brackets] {braces}", "email@example.com",
    "https://example.com/path?q=1", "#hashtag @mention", "C++ & C#", "naïve café", "nai\u0308ve cafe\u0301",
    "日本語のテキスト。", "中文，标点！", "한국어 텍스트", "Ελληνικά", "עברית", "العربية", "हिन्दी",
    "emoji 😀👍🏽 family 👨‍👩‍👧", "mixed中文English日本語123", "\u00a0nbsp\u00a0", "ideographic\u3000space",
    "zero\u200bwidth", "tab\there", "<|im_start|>assistant\nHi<|im_end|>\n",
    "<tts_pad><tts_text_bos>x<tts_text_eod>", "<|im_start|><|im_start|>", "<|im_start", "im_start|>",
    "a<|endoftext|>b", "<think>reason</think>", "  <|im_end|>  ",
    "Ünïcödé ÀÉÎÕÜ ßẞ", "ſ long s's", "ﬁ ligature", "x\u0085y", "x\u2028y",
]


def pieces(tok, text):
    """The pre-tokenizer pieces of the non-special parts of `text`."""
    backend = tok.backend_tokenizer
    out = []
    # Split on added tokens the way encoding does: encode and look at offsets of special ids.
    enc = backend.encode(text, add_special_tokens=False)
    added = {t.content for t in tok.added_tokens_decoder.values()}
    segments, start = [], 0
    for tid, (a, b) in zip(enc.ids, enc.offsets):
        if tok.convert_ids_to_tokens(tid) in added:
            if start < a:
                segments.append(text[start:a])
            start = b
    if start < len(text):
        segments.append(text[start:])
    for seg in segments:
        norm = backend.normalizer.normalize_str(seg) if backend.normalizer else seg
        for piece, (a, b) in backend.pre_tokenizer.pre_tokenize_str(norm):
            out.append(norm[a:b])
    return out


def main():
    vocab_dir, out_path = sys.argv[1], sys.argv[2]
    tok = Qwen2TokenizerFast.from_pretrained(vocab_dir)
    extra = []
    if len(sys.argv) > 3:
        with open(sys.argv[3], encoding="utf-8") as f:
            extra = json.load(f)
    records = []
    for text in EDGE_CASES + extra:
        ids = tok.encode(text, add_special_tokens=False)
        records.append({"text": text, "ids": ids, "pieces": pieces(tok, text),
                        "decoded": tok.decode(ids, skip_special_tokens=False)})
    import transformers
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"generator": "scripts/reference/tokenizer_goldens.py",
                   "transformers": transformers.__version__, "records": records},
                  f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
