#!/usr/bin/env bash
# Builds the libFuzzer harnesses (Fuzz/) and runs each for SECONDS (default 60), starting from the
# committed seed corpus, after replaying every input in Fuzz/regressions/TARGET (past findings).
# Fails on any crash, sanitizer report, timeout or out-of-memory; the input that caused it is left
# in .build/fuzz/artifacts. Usage: scripts/fuzz/run.sh [SECONDS] [TARGET ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(multipart speech-request stream-message wav voice-blend voice-file gguf safetensors tokenizer-files text)

(cd Fuzz && swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -enable-testing)
binary=Fuzz/.build/debug/qwen3-tts-fuzz
work=.build/fuzz
mkdir -p "$work/artifacts"
status=0
for target in "${targets[@]}"; do
    corpus="$work/corpus/$target"
    mkdir -p "$corpus"
    cp -n Fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
    if compgen -G "Fuzz/regressions/$target/*" >/dev/null; then
        echo "== $target: replaying Fuzz/regressions/$target"
        FUZZ_TARGET=$target "$binary" -rss_limit_mb=4096 -timeout=10 Fuzz/regressions/"$target"/* || status=1
    fi
    echo "== $target: fuzzing for $seconds s"
    # -timeout: one input may take at most 10 s; -rss_limit_mb: at most 4 GB (a parser that
    # allocates what a header claims is caught here); -max_len: bodies up to 64 KB.
    if ! FUZZ_TARGET=$target "$binary" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
        -artifact_prefix="$work/artifacts/$target-" -print_final_stats=1 2>"$work/$target.log"; then
        status=1
        echo "!! $target found a problem; the input is in $work/artifacts, the log in $work/$target.log"
        tail -40 "$work/$target.log"
    else
        grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|cov: " "$work/$target.log" | tail -3
    fi
done
exit $status
