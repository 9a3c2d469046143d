"""Lets `import qwen_tts` succeed without the 25 Hz tokenizer's dependencies.

qwen_tts imports its 25 Hz tokenizer (never used by the 12 Hz models) at package load, and that
imports sox, onnxruntime and torchaudio. Empty stand-ins are registered for whichever of them is
missing; nothing in the fixture scripts calls into them. Import this module before qwen_tts.
"""
import importlib.machinery
import sys
import types

for _missing in ("sox", "onnxruntime", "torchaudio", "torchaudio.compliance",
                 "torchaudio.compliance.kaldi"):
    try:
        __import__(_missing)
    except ImportError:
        _stub = types.ModuleType(_missing)
        _stub.__spec__ = importlib.machinery.ModuleSpec(_missing, None)
        sys.modules[_missing] = _stub
