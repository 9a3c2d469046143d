"""A tiny Qwen2-style byte-level BPE vocabulary for the fixture checkpoints.

Same file layout as the published checkpoints (vocab.json, merges.txt, tokenizer_config.json with
added_tokens_decoder, no tokenizer.json), the standard Qwen2 split pattern, the 256 byte symbols,
a few hundred merges learnt from a small multilingual corpus, then the Qwen special tokens in
Qwen's order (so `<|endoftext|>` sits right after the ordinary tokens, as 151643 does in Qwen).
"""
import json
import os

from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers

QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
                 r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

# Qwen's added tokens from id 151643 on, in order; the flag is `special`.
SPECIAL_TOKENS = [
    ("<|endoftext|>", True), ("<|im_start|>", True), ("<|im_end|>", True),
    ("<|object_ref_start|>", True), ("<|object_ref_end|>", True), ("<|box_start|>", True),
    ("<|box_end|>", True), ("<|quad_start|>", True), ("<|quad_end|>", True),
    ("<|vision_start|>", True), ("<|vision_end|>", True), ("<|vision_pad|>", True),
    ("<|image_pad|>", True), ("<|video_pad|>", True), ("<tool_call>", False),
    ("</tool_call>", False), ("<|fim_prefix|>", False), ("<|fim_middle|>", False),
    ("<|fim_suffix|>", False), ("<|fim_pad|>", False), ("<|repo_name|>", False),
    ("<|file_sep|>", False), ("<tool_response>", False), ("</tool_response>", False),
    ("<think>", False), ("</think>", False), ("<|audio_start|>", True), ("<|audio_end|>", True),
    ("<tts_pad>", True), ("<tts_text_bos>", True), ("<tts_text_eod>", True),
    ("<tts_text_bos_single>", True), ("<|audio_pad|>", True),
]

CORPUS = [
    "assistant\n", "user\n", "system\n",
    "Hello there, how are you today? I am fine, thank you very much.",
    "The quick brown fox jumps over the lazy dog. It's 12:45 and we're late!",
    "今天天气很好，我们去公园散步吧。北京的秋天最美。你好，欢迎来到成都。",
    "こんにちは、元気ですか？ありがとうございます。",
    "안녕하세요, 만나서 반갑습니다. 감사합니다.",
    "Guten Morgen! Wie geht es dir? Danke schön.",
    "Bonjour, je m'appelle Anna et j'adore Paris. Merci beaucoup.",
    "Привет, как дела? Всё хорошо. Спасибо большое.",
    "Olá, tudo bem com você? Obrigado.",
    "¿Dónde está la biblioteca? Está cerca. Gracias.",
    "Buongiorno, che bella giornata! Grazie mille.",
    "Speak happily and fast. A warm elderly voice, slow. Young, energetic, bright.",
]


def build_tiny_vocab(out_dir, merges_target=700):
    os.makedirs(out_dir, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    trainer = trainers.BpeTrainer(vocab_size=merges_target, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    corpus = CORPUS * 3 + ["assistant\n"] * 50 + ["user\n"] * 50
    tok.train_from_iterator(corpus, trainer=trainer)
    tok.model.save(out_dir)
    with open(os.path.join(out_dir, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    for word in ("assistant", "user"):
        if word not in vocab:
            raise SystemExit(f"tiny vocabulary lacks the single token {word!r}")
    n = len(vocab)
    added = {}
    ids = {}
    for i, (content, special) in enumerate(SPECIAL_TOKENS):
        added[str(n + i)] = {"content": content, "lstrip": False, "normalized": False,
                             "rstrip": False, "single_word": False, "special": special}
        ids[content] = n + i
    config = {
        "add_bos_token": False, "add_prefix_space": False, "added_tokens_decoder": added,
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>", "<|object_ref_start|>",
                                      "<|object_ref_end|>", "<|box_start|>", "<|box_end|>",
                                      "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
                                      "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>",
                                      "<|video_pad|>"],
        "bos_token": None, "clean_up_tokenization_spaces": False, "eos_token": "<|im_end|>",
        "errors": "replace", "model_max_length": 131072, "pad_token": "<|endoftext|>",
        "split_special_tokens": False, "tokenizer_class": "Qwen2Tokenizer", "unk_token": None,
    }
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=2)
        f.write("\n")
    total = n + len(SPECIAL_TOKENS)
    ids["assistant"] = vocab["assistant"]
    ids["__size__"] = (total + 63) // 64 * 64
    files = [os.path.join(out_dir, f) for f in ("vocab.json", "merges.txt", "tokenizer_config.json")]
    return files, ids
