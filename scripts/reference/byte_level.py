"""GPT-2's byte-to-unicode table, which byte-level BPE vocabularies (Qwen's among them) use to
spell every byte as a printable character. Shared by the vocabulary and fuzz-seed scripts."""


def bytes_to_unicode():
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}
