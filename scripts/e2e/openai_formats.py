#!/usr/bin/env python3
"""Requests every response_format from a running `qwen3-tts serve` with the official `openai`
package: whole, streamed (raw bytes, read as they arrive) and as server-sent events, and at
speed 1.5. Writes each body to OUT_DIR/<format>_<mode>.<ext> and a summary with the time to the
first byte of each streamed response to OUT_DIR/formats.json. The Swift end-to-end test decodes
the files with ffmpeg and compares them with the WAV. Usage:
  openai_formats.py BASE_URL OUT_DIR --voice ryan --seed 5 --input TEXT [--max-frames N]
"""
import argparse
import base64
import json
import pathlib
import sys
import time

import openai

FORMATS = ["wav", "pcm", "mp3", "opus", "aac", "flac"]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("base_url")
    p.add_argument("out_dir")
    p.add_argument("--voice", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--max-frames", type=int, default=None)
    p.add_argument("--input", required=True)
    p.add_argument("--runs", type=int, default=1, help="streamed requests per format, for the first-byte median")
    a = p.parse_args()

    client = openai.OpenAI(base_url=a.base_url.rstrip("/") + "/v1", api_key="unused", max_retries=0)
    extra = {"seed": a.seed}
    if a.max_frames is not None:
        extra["max_frames"] = a.max_frames
    out = pathlib.Path(a.out_dir)
    summary = {}
    for fmt in FORMATS:
        args = dict(model="tts-1", voice=a.voice, input=a.input, response_format=fmt, extra_body=extra)
        whole = client.audio.speech.create(**args)
        (out / f"{fmt}_whole.{fmt}").write_bytes(whole.content)

        first_bytes = []
        for _ in range(a.runs):
            start = time.monotonic()
            first = None
            body = bytearray()
            with client.audio.speech.with_streaming_response.create(**args) as response:
                for chunk in response.iter_bytes():
                    if first is None and chunk:
                        first = time.monotonic() - start
                    body += chunk
            first_bytes.append(first)
        (out / f"{fmt}_stream.{fmt}").write_bytes(bytes(body))

        # Server-sent events: base64 deltas of the same bytes, then a "done" event.
        events = bytearray()
        done = False
        with client.audio.speech.with_streaming_response.create(stream_format="sse", **args) as response:
            for line in response.iter_lines():
                if not line.startswith("data: "):
                    continue
                event = json.loads(line[len("data: "):])
                if event["type"] == "speech.audio.delta":
                    events += base64.b64decode(event["audio"])
                elif event["type"] == "speech.audio.done":
                    done = True
        if not done:
            print(f"{fmt}: no speech.audio.done event", file=sys.stderr)
            return 1
        (out / f"{fmt}_sse.{fmt}").write_bytes(bytes(events))

        fast = client.audio.speech.create(speed=1.5, **args)
        (out / f"{fmt}_speed.{fmt}").write_bytes(fast.content)
        first_bytes.sort()
        summary[fmt] = {"bytes": len(whole.content), "first_byte_median": first_bytes[len(first_bytes) // 2],
                        "content_type": whole.response.headers.get("content-type")}

    (out / "formats.json").write_text(json.dumps(summary, indent=1))
    for fmt, s in summary.items():
        print(f"{fmt}: {s['bytes']} bytes, first byte after {s['first_byte_median'] * 1000:.0f} ms (median of {a.runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
