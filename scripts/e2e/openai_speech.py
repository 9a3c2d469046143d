#!/usr/bin/env python3
"""Calls a running `qwen3-tts serve` with the official `openai` package, as a user's code would.

Writes two files: the audio from `client.audio.speech.create` (whole response) and from
`with_streaming_response` (read chunk by chunk). The Swift end-to-end test compares them with
`qwen3-tts synthesize`. Usage:
  openai_speech.py BASE_URL OUT_DIR --voice ryan --language english --seed 5 --input TEXT [--api-key K]
"""
import argparse
import pathlib
import sys

import openai


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("base_url")
    p.add_argument("out_dir")
    p.add_argument("--voice", required=True)
    p.add_argument("--language", default="auto")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--max-frames", type=int, default=None)
    p.add_argument("--input", required=True)
    p.add_argument("--api-key", default="unused")
    a = p.parse_args()

    client = openai.OpenAI(base_url=a.base_url.rstrip("/") + "/v1", api_key=a.api_key, max_retries=0)
    extra = {"seed": a.seed, "language": a.language}
    if a.max_frames is not None:
        extra["max_frames"] = a.max_frames
    out = pathlib.Path(a.out_dir)

    whole = client.audio.speech.create(model="tts-1", voice=a.voice, input=a.input,
                                       response_format="wav", extra_body=extra)
    (out / "openai_whole.wav").write_bytes(whole.content)

    chunks = 0
    with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice=a.voice, input=a.input, response_format="wav", extra_body=extra) as response:
        with open(out / "openai_stream.wav", "wb") as f:
            for chunk in response.iter_bytes():
                f.write(chunk)
                chunks += 1

    # A refusal comes back as the SDK's typed error carrying the server's message.
    try:
        client.audio.speech.create(model="tts-1", voice="no-such-voice", input=a.input, extra_body=extra)
        print("expected a 400 for an unknown voice", file=sys.stderr)
        return 1
    except openai.BadRequestError as e:
        if "no-such-voice" not in str(e):
            print(f"unexpected error text: {e}", file=sys.stderr)
            return 1

    print(f"ok: {len(whole.content)} bytes whole, {chunks} chunks streamed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
