#!/usr/bin/env bash
# The NEON kernels checked on this x86 machine: cross-compiled with Debian's gcc-aarch64-linux-gnu
# and run under qemu-aarch64 against their scalar twins (scripts/arm64/kernel_twins.c), at each
# feature level dispatch can pick:
#   built for armv8-a, on a Cortex-A53 (no dotprod)  -> the plain NEON kernels
#   built for armv8-a, on qemu's "max" CPU           -> dotprod kernels chosen at run time
#   built for armv8.2-a+dotprod, on "max"            -> the whole file set compiled with dotprod
#   TTS_KERNELS=neon on "max"                        -> forcing the lower level
# Then the NEON sources are compiled as Apple's compiler sees them (arm64-apple-macos14,
# freestanding: no SDK here, so they may include only the compiler's own headers).
# Needs: apt-get install gcc-aarch64-linux-gnu qemu-user (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in aarch64-linux-gnu-gcc qemu-aarch64; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install gcc-aarch64-linux-gnu qemu-user" >&2; exit 1; }
done
out=.build/arm64-twins
mkdir -p "$out"
k=Sources/CTTSKernels
sources=("$k"/ref/*.c "$k"/arm/*.c "$k"/dispatch.c "$k"/platform.c scripts/arm64/kernel_twins.c)
for level in armv8-a armv8.2-a+dotprod; do
    aarch64-linux-gnu-gcc -std=gnu11 -O2 -march="$level" -static -Wall -Werror -Wno-unused-function \
        -I "$k/include" -o "$out/twins-$level" "${sources[@]}" -lm
done
run() {
    echo "== $*"
    "$@"
}
run qemu-aarch64 -cpu cortex-a53 "$out/twins-armv8-a"
run qemu-aarch64 -cpu max "$out/twins-armv8-a"
run qemu-aarch64 -cpu max "$out/twins-armv8.2-a+dotprod"
run env TTS_KERNELS=neon qemu-aarch64 -cpu max "$out/twins-armv8-a"

# Apple's view of the NEON files, with the Swift toolchain's clang (no macOS SDK needed).
clang=$(command -v clang || true)
[ -n "$clang" ] || clang=$(dirname "$(readlink -f "$(command -v swift)")")/clang
echo "== $clang --target=arm64-apple-macos14 -ffreestanding -fsyntax-only $k/arm/*.c"
"$clang" --target=arm64-apple-macos14 -ffreestanding -fsyntax-only -Werror -Wall -Wno-unused-function -I "$k/include" "$k"/arm/*.c
echo "arm64 kernels: all checks passed"
