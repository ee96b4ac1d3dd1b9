#!/usr/bin/env python3
"""Build a tiny Hugging Face style sequence-classification model for otai's bring-your-own-model tests.

otai can load any folder holding `model.onnx` (inputs input_ids / attention_mask [/ token_type_ids], output
`logits` [batch, labels]), `tokenizer.json` and a `config.json` with `id2label`, as exported from a
`*ForSequenceClassification` model. None can be downloaded here, so this script makes one offline: otai's
int8 encoder plus a linear layer folded into the graph (`Gemm` -> `logits`), whose rows are the normalised
mean embeddings of a few example sentences per label (a nearest-centroid classifier, scaled).

Writes OUT/model.onnx, OUT/tokenizer.json, OUT/config.json. Skips when OUT/config.json exists.
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer

EXAMPLES = {
    "cards": ["I lost my card", "My card was stolen", "My card is not working", "When will my new card arrive?"],
    "transfers": ["My transfer has not arrived", "How do I send money to a friend?", "Cancel my bank transfer"],
    "top_up": ["How do I top up my account?", "My top-up failed", "Top up with a bank transfer"],
    "account": ["How do I change my password?", "I want to close my account", "How do I verify my identity?"],
}
# Cosine differences between labels are small; scaling the unit-length centroids makes the softmax decisive.
SCALE = 20.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encoder-dir", type=Path, required=True, help="otai encoder folder (encoder.onnx ...)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if (args.out / "config.json").exists():
        print(f"test HF model: {args.out} exists, skipping")
        return 0

    tok = Tokenizer.from_file(str(args.encoder_dir / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    sess = ort.InferenceSession(str(args.encoder_dir / "encoder.onnx"), providers=["CPUExecutionProvider"])
    labels = list(EXAMPLES)
    centroids = []
    for label in labels:
        rows = []
        for text in EXAMPLES[label]:
            e = tok.encode(text)
            feed = {
                "input_ids": np.array([e.ids], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids], dtype=np.int64),
            }
            rows.append(sess.run(None, feed)[0][0])
        c = np.mean(rows, axis=0)
        centroids.append(c / np.linalg.norm(c))
    weight = (SCALE * np.stack(centroids)).astype(np.float32)  # [labels, dim]

    model = onnx.load(str(args.encoder_dir / "encoder.onnx"))
    g = model.graph
    pooled = g.output[0].name
    g.initializer.extend(
        [
            numpy_helper.from_array(weight, "classifier_weight"),
            numpy_helper.from_array(np.zeros(len(labels), dtype=np.float32), "classifier_bias"),
        ]
    )
    g.node.append(helper.make_node("Gemm", [pooled, "classifier_weight", "classifier_bias"], ["logits"], transB=1))
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(labels)]))
    onnx.checker.check_model(model)

    staging = args.out.with_name(args.out.name + ".tmp")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    onnx.save(model, str(staging / "model.onnx"))
    shutil.copy(args.encoder_dir / "tokenizer.json", staging / "tokenizer.json")
    config = json.loads((args.encoder_dir / "config.json").read_text())
    config.update(
        {
            "architectures": ["BertForSequenceClassification"],
            "id2label": {str(i): label for i, label in enumerate(labels)},
            "label2id": {label: i for i, label in enumerate(labels)},
            "problem_type": "single_label_classification",
            "_otai_note": "test fixture built by models/build_test_hf_model.py; not a trained model",
        }
    )
    (staging / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    if args.out.exists():
        shutil.rmtree(args.out)
    staging.rename(args.out)
    print(f"test HF model: wrote {args.out} ({len(labels)} labels: {', '.join(labels)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
