#!/usr/bin/env python3
"""Reads a daemon's /metrics with the Prometheus project's parser (prometheus_client) and prints
its samples as JSON: {"name{label=value,...}": value}. Exits 1, with the parser's message, if the
text does not parse. Usage: parse_metrics.py URL"""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main() -> int:
    with urllib.request.urlopen(sys.argv[1], timeout=10) as response:
        text = response.read().decode("utf-8")
    samples = {}
    try:
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
                samples[s.name + ("{" + labels + "}" if labels else "")] = s.value
    except Exception as e:  # the parser raises ValueError and others on malformed text
        print(f"/metrics does not parse: {e}", file=sys.stderr)
        return 1
    print(json.dumps(samples, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
