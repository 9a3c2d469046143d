#!/usr/bin/env python3
"""Speaks text over `qwen3-tts serve`'s WebSocket endpoint as a vLLM-Omni streaming client does.

Sends session.config, the text word by word (input.text, with a pause between words, as an LLM
writes), then input.done; writes the binary audio to OUT and prints the JSON events, one per
line. The Swift end-to-end test compares OUT with `qwen3-tts synthesize`. With --timing it also
prints the time from the first complete word sent to the first audio, and from input.done to the
last audio (docs/BENCHMARKS.md). Usage:
  stream_speech.py WS_URL OUT --voice ryan --language english --seed 5 --input TEXT [--pause S] [--max-frames N] [--timing]
"""
import argparse
import asyncio
import json
import pathlib
import re
import sys
import time

import websockets


async def speak(a) -> int:
    config = {"type": "session.config", "voice": a.voice, "language": a.language, "seed": a.seed,
              "response_format": "pcm", "stream_audio": True}
    if a.max_frames is not None:
        config["max_frames"] = a.max_frames
    audio = bytearray()
    failed = False
    times = {}
    async with websockets.connect(a.url, max_size=None) as ws:
        await ws.send(json.dumps(config))

        async def write():
            # Words with the spaces that follow them, so the pieces join to the text exactly; a
            # word is complete once the space after it is sent.
            for piece in re.findall(r"\S+\s*|\s+", a.input):
                await ws.send(json.dumps({"type": "input.text", "text": piece}))
                times.setdefault("first_word", time.monotonic())
                await asyncio.sleep(a.pause)
            await ws.send(json.dumps({"type": "input.done"}))
            times["done"] = time.monotonic()

        writer = asyncio.create_task(write())
        async for message in ws:
            if isinstance(message, bytes):
                times.setdefault("first_audio", time.monotonic())
                times["last_audio"] = time.monotonic()
                audio += message
                continue
            print(message, flush=True)
            event = json.loads(message)
            if event["type"] == "error":
                failed = True
            if event["type"] in ("session.done", "error"):
                await ws.send(json.dumps({"type": "session.close"}))
        try:
            await writer
        except websockets.ConnectionClosed:
            pass
    pathlib.Path(a.out).write_bytes(bytes(audio))
    if a.timing and "first_audio" in times:
        print(f"first word to first audio {1000 * (times['first_audio'] - times['first_word']):.1f} ms, "
              f"input.done to last audio {times['last_audio'] - times['done']:.2f} s, "
              f"{len(audio) / 48000:.2f} s of audio", file=sys.stderr)
    return 1 if failed else 0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("out")
    p.add_argument("--voice", required=True)
    p.add_argument("--language", default="auto")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--pause", type=float, default=0.05)
    p.add_argument("--max-frames", type=int, default=None)
    p.add_argument("--timing", action="store_true")
    return asyncio.run(speak(p.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
