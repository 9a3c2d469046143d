#!/usr/bin/env bash
# Static throughput of the NEON inner loops by llvm-mca, for a Cortex-A76 (the RK3588's big core)
# and an Apple M1. These are predictions from LLVM's machine models, not measurements:
#   - LLVM has no Cortex-A76 model of its own (-mcpu=cortex-a76 falls back to Cortex-A57's), so
#     the A76 figures use Neoverse N1's model: the same core design (Arm "Ares") for servers.
#   - Apple M1 maps to LLVM's "Cyclone" model (Apple's first 64-bit core; M1 is wider), so its
#     figures are pessimistic.
# For each marked loop (TTS_MCA_BEGIN/END in arm/*.c, compiled with -DTTS_MCA) it prints the
# cycles per iteration in steady state, the resource bound of the loop ("Block RThroughput", the
# cycles its busiest pipe needs), and their ratio: the share of the issue limit the loop reaches.
#   q4_k-*: one 256-weight block of two rows (512 weights); q8_0: one 32-weight block (f32
#   activations); q8_0-sdot: one 512-weight group of two rows (1024 weights); conv-gemm: 2 tokens x 32 outputs x
#   4 inputs (256 multiply-adds, 512 FLOP; its 1-token twin is the second conv-gemm line).
set -euo pipefail
cd "$(dirname "$0")/../.."
mca=$(command -v llvm-mca-19 || command -v llvm-mca || true)
[ -n "$mca" ] || { echo "llvm-mca is missing: apt-get install llvm-19 (or llvm-14)" >&2; exit 1; }
clang=$(command -v clang || true)
[ -n "$clang" ] || clang=$(dirname "$(readlink -f "$(command -v swift)")")/clang
out=.build/arm64-mca
mkdir -p "$out"
k=Sources/CTTSKernels
printf "%-10s %-14s %12s %12s %8s %s\n" core loop cycles/iter bound/iter share note
for target in "cortex-a76 neoverse-n1" "apple-m1 apple-m1"; do
    set -- $target
    codegen=$1 model=$2
    for file in q4_k_neon matmul_neon q8_vnni_neon conv_neon; do
        "$clang" --target=aarch64-linux-gnu -mcpu="$codegen" -O2 -ffreestanding -DTTS_MCA -S -I "$k/include" \
            "$k/arm/$file.c" -o "$out/$file-$codegen.s"
        # Markers as llvm-mca reads them on AArch64: a '#' comment at the start of the line.
        sed -i -E 's#^[[:space:]]*// (LLVM-MCA-(BEGIN|END))#\# \1#' "$out/$file-$codegen.s"
        "$mca" -mtriple=aarch64 -mcpu="$model" -iterations=300 "$out/$file-$codegen.s" 2>/dev/null |
            awk -v core="$codegen" '
                BEGIN { seen = 0 }
                /Code Region - / { sub(/.*Code Region - /, ""); region = $0 }
                /^Iterations:/ { iters = $2 }
                /^Total Cycles:/ { cycles = $3 }
                /^Block RThroughput:/ {
                    bound = $3; per = cycles / iters
                    note = ""
                    if (region ~ /^q4_k/) note = sprintf("%.1f cycles per 256 weights", per / 2)
                    if (region == "q8_0") note = sprintf("%.1f cycles per 256 weights", per * 8)
                    if (region == "q8_0-sdot") note = sprintf("%.1f cycles per 256 weights", per / 4)
                    if (region == "conv-gemm") { seen++; note = sprintf("%.1f FLOP/cycle", (seen % 2 ? 512 : 256) / per) }
                    printf "%-10s %-14s %12.1f %12.1f %7.0f%% %s\n", core, region, per, bound, 100 * bound / per, note
                }'
    done
done
