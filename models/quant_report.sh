#!/usr/bin/env bash
# The quantisation check (models/quant_check.py) on each x86-64 kernel path ONNX Runtime has, side by side on
# one machine: natively, and under qemu-user emulating CPUs without the native features (EPYC-Rome: AVX2, no
# AVX-512, no VNNI, the common AMD/older-Intel server; Nehalem: SSE4.2 only). ONNX Runtime picks its int8
# kernels from CPUID, which the emulator answers for the emulated CPU, so each run measures that kernel path.
# Emulation is slow (about 15 minutes a CPU on 2 cores): this is a report for models/README.md, not a test.
#
# Usage: models/quant_report.sh [QEMU_CPU ...]   (default: EPYC-Rome). Needs qemu-user (Debian: qemu-user);
# installs it with apt-get when run as root and it is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
CPUS=("$@")
[[ ${#CPUS[@]} -gt 0 ]] || CPUS=(EPYC-Rome)
[[ -x "$PY" && -f "$ROOT/models/minilm-l6-int8/encoder.onnx" ]] || { echo "run models/setup.sh first" >&2; exit 1; }
if ! command -v qemu-x86_64 >/dev/null; then
  if [[ $EUID -eq 0 ]]; then apt-get install -y -qq qemu-user >/dev/null; else
    echo "qemu-x86_64 is missing: apt-get install qemu-user" >&2; exit 1; fi
fi
check=("$PY" "$ROOT/models/quant_check.py" --fp32 "$ROOT/models/minilm-l6-fp32" --int8 "$ROOT/models/minilm-l6-int8")
echo "== native"
"${check[@]}" || true
for cpu in "${CPUS[@]}"; do
  echo "== qemu-x86_64 -cpu $cpu"
  # qemu warns about every CPUID bit TCG lacks; those lines say nothing about the check.
  qemu-x86_64 -cpu "$cpu" "${check[@]}" 2> >(grep -v "TCG doesn't support" >&2) || true
done
