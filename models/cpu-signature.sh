#!/usr/bin/env bash
# Prints which x86-64 kernel path ONNX Runtime's int8 code takes on this CPU, as one word, e.g.
# `AuthenticAMD-avx2-avx512f-avx512_vnni`: the vendor and the features that change int8 results (AVX2,
# AVX-512, VNNI in either form, AMX). models/setup.sh records it beside what it checked and trained, and the
# Makefile names its setup stamp after it, so a checkout moved to another kind of CPU is checked again there
# instead of trusting results measured elsewhere.
set -euo pipefail
vendor="$(grep -m1 '^vendor_id' /proc/cpuinfo 2>/dev/null | sed 's/.*: *//')"
flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | sed 's/.*: *//') "
sig="${vendor:-unknown}"
for f in avx2 avx512f avx512_vnni avx_vnni amx_int8; do
  [[ "$flags" == *" $f "* ]] && sig="$sig-$f"
done
echo "$sig"
