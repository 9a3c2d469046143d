#!/usr/bin/env python3
"""Reads a GGUF file with llama.cpp's own `gguf` package and prints what it sees as JSON: the
metadata keys and, per tensor, its ggml type, its shape (outermost dimension first, as our
reader reports it), and the sum and first values of its data dequantized by gguf.quants. The
GGUF tests compare this with our reader, so "readable by GGUF tools" is checked, not assumed.
    python3 scripts/e2e/gguf_read.py FILE.gguf
"""
import json
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def main() -> None:
    reader = GGUFReader(sys.argv[1])
    tensors = {}
    for t in reader.tensors:
        values = np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float64).reshape(-1)
        tensors[t.name] = {
            "type": t.tensor_type.name,
            "shape": [int(d) for d in reversed(t.shape.tolist())],
            "sum": float(values.sum()),
            "first": [float(v) for v in values[:8]],
            "count": int(values.size),
        }
    keys = sorted(k for k in reader.fields.keys() if not k.startswith("GGUF."))
    print(json.dumps({"keys": keys, "tensors": tensors}))


if __name__ == "__main__":
    main()
