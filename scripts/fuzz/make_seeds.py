#!/usr/bin/env python3
"""Writes the committed seed corpus of the fuzz harnesses (Fuzz/corpus/TARGET/): small valid
inputs of each format, so that the fuzzer starts from the structure it has to get past."""
import json
import math
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from byte_level import bytes_to_unicode  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def multipart(parts, boundary="B"):
    out = b""
    for name, filename, data in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        disposition = 'Content-Disposition: form-data; name="%s"' % name
        if filename:
            disposition += '; filename="%s"' % filename
        out += disposition.encode() + b"\r\n"
        if filename:
            out += b"Content-Type: audio/wav\r\n"
        out += b"\r\n" + data + b"\r\n"
    return out + b"--" + boundary.encode() + b"--\r\n"


def wav(samples, rate=24000, channels=1, bits=16, tag=1, extensible=False):
    if tag == 3:
        fmt = "<%d%s" % (len(samples), "f" if bits == 32 else "d")
        data = struct.pack(fmt, *samples)
    elif bits == 16:
        data = struct.pack("<%dh" % len(samples), *[int(s * 32767) for s in samples])
    elif bits == 24:
        data = b"".join(struct.pack("<i", int(s * 8388607))[:3] for s in samples)
    else:
        data = struct.pack("<%di" % len(samples), *[int(s * 2147483647) for s in samples])
    block = channels * bits // 8
    if extensible:
        fmt_body = struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * block, block, bits, 22, bits, 0)
        fmt_body += struct.pack("<H", tag) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    else:
        fmt_body = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    chunks = b"fmt " + struct.pack("<I", len(fmt_body)) + fmt_body + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def gguf(metadata, tensors):
    def s(text):
        b = text.encode()
        return struct.pack("<Q", len(b)) + b
    out = struct.pack("<IIQQ", 0x46554747, 3, len(tensors), len(metadata))
    for key, kind, value in metadata:
        out += s(key) + struct.pack("<I", kind)
        if kind == 4:
            out += struct.pack("<I", value)
        elif kind == 8:
            out += s(value)
        elif kind == 9:
            out += struct.pack("<IQ", 4, len(value)) + b"".join(struct.pack("<I", v) for v in value)
    offset = 0
    for name, dims, kind in tensors:
        out += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", kind, offset)
        offset += 4 * math.prod(dims)
    out += b"\x00" * (-len(out) % 32)
    return out + b"\x00" * offset


def safetensors(tensors):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, dtype, shape, size in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + b"\x00" * offset


def main():
    wav_bytes = wav([0.3 * math.sin(i * 0.05) for i in range(64)])
    put("multipart", "voice-upload", multipart([("name", None, b"Anna"), ("audio", "a.wav", wav_bytes), ("text", None, b"A hum.")]))
    put("multipart", "issue-15-headerless-part", b"--B\r\n\r\nx\r\n--B--\r\n")
    put("multipart", "binary-part", multipart([("audio", "a.wav", b"\x00\r\n--\xff"), ("xvector_only", None, b"true")]))

    put("speech-request", "minimal", json.dumps({"model": "tts-1", "input": "Hello there.", "voice": "ryan"}))
    put("speech-request", "every-field", json.dumps({
        "model": "qwen3-tts", "input": "你好，世界。", "voice": "vivian", "response_format": "pcm", "speed": 1.0,
        "instructions": "calm", "stream_format": "sse", "language": "chinese", "seed": 7, "temperature": 0.8,
        "top_k": 40, "top_p": 0.9, "repetition_penalty": 1.05, "max_frames": 100}))
    put("speech-request", "wrong-types", '{"model": 1, "input": ["x"], "seed": -1, "top_k": 2.5, "speed": "fast"}')
    # vLLM-Omni's fields, with a tiny WAV as ref_audio in a data: URI, and a voice blend.
    import base64
    reference = base64.b64encode(wav([0.1, -0.1, 0.2, 0.0])).decode()
    put("speech-request", "vllm-omni", json.dumps({
        "model": "tts-1", "input": "Hi.", "task_type": "Base", "ref_audio": "data:audio/wav;base64," + reference,
        "ref_text": "Hi.", "x_vector_only_mode": False, "max_new_tokens": 20, "non_streaming_mode": True,
        "speed": 1.5, "response_format": "opus", "voice": "a(1)+b(2)"}))
    # /v1/audio/speech/stream messages (vLLM-Omni's streaming protocol).
    put("stream-message", "config", json.dumps({
        "type": "session.config", "voice": "ryan", "language": "english", "seed": 3, "response_format": "pcm",
        "stream_audio": True, "split_granularity": "sentence", "word_timestamps": False, "max_new_tokens": 40,
        "non_streaming_mode": False}))
    put("stream-message", "config-ref", json.dumps({
        "type": "session.config", "task_type": "Base", "ref_audio": "data:audio/wav;base64," + reference,
        "x_vector_only_mode": True}))
    put("stream-message", "text", json.dumps({"type": "input.text", "text": "Hello, wor"}))
    put("stream-message", "done", json.dumps({"type": "input.done"}))
    put("voice-blend", "two", "aiden(2)+ryan(1)")
    put("voice-blend", "spaces", " a ( 0.5 ) + b + c(1000)")
    put("voice-blend", "malformed", "a((1))+")

    put("wav", "pcm16-mono", wav_bytes)
    put("wav", "pcm24-stereo", wav([0.1, -0.1, 0.2, -0.2] * 8, channels=2, bits=24))
    put("wav", "pcm32", wav([0.5, -0.5] * 16, bits=32))
    put("wav", "float32-extensible", wav([0.25, -0.25] * 16, bits=32, tag=3, extensible=True))
    put("wav", "float64", wav([0.125] * 16, bits=64, tag=3))

    put("voice-file", "xvector", json.dumps({
        "format": "qwen3-tts-voice", "version": 1, "name": "nova", "mode": "xvector", "xvector": [0.1] * 8,
        "model": {"kind": "base", "size": "0b6", "hidden": 8, "speaker_encoder": "0123456789abcdef"},
        "reference_seconds": 3.0, "appended_silence": 0}))
    put("voice-file", "icl", json.dumps({
        "format": "qwen3-tts-voice", "version": 1, "name": "echo", "mode": "icl", "xvector": [0.0] * 8,
        "reference": {"codes": [[1] * 16, [2] * 16], "text": "A steady hum."},
        "model": {"kind": "base", "size": "0b6", "hidden": 8, "speaker_encoder": "0123456789abcdef"},
        "reference_seconds": 0.16, "appended_silence": 0.5}))

    put("gguf", "tiny", gguf([("general.alignment", 4, 32), ("general.name", 8, "tiny"), ("list", 9, [1, 2, 3])],
                             [("w", [8, 2], 0), ("b", [8], 0)]))
    put("safetensors", "tiny", safetensors([("w", "F32", [2, 8], 64), ("b", "BF16", [8], 16)]))

    symbols = bytes_to_unicode()
    vocab = {symbols[b]: b for b in range(256)}
    merges = [("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o")]
    for a, b in merges:
        vocab[a + b] = len(vocab)
    config = {"added_tokens_decoder": {str(len(vocab)): {"content": "<|im_start|>", "special": True}}}
    merges_text = "#version: 0.2\n" + "".join("%s %s\n" % m for m in merges)
    put("tokenizer-files", "tiny", json.dumps(vocab).encode() + b"\x00" + merges_text.encode() + b"\x00" + json.dumps(config).encode())

    for i, text in enumerate(["Hello, world! It's 12:30.", "你好，今天很好！我们走吧？", "Привет, мир. Ça va? Grüß Gott.",
                              "e" + "\u0301" * 200, "😀👍🏽 family: 👨‍👩‍👧", "<|im_start|>assistant\n", "a\r\n\r\n  b\t\tc   "]):
        put("text", "sample-%d" % i, text)


if __name__ == "__main__":
    sys.exit(main())
