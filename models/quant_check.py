#!/usr/bin/env python3
"""Does a quantised (int8) sentence encoder still do its job? Judged against its fp32 original.

ONNX Runtime's int8 kernels differ by CPU (AVX2 without VNNI saturates differently from AVX-512 VNNI), so
int8 embeddings move a little from one machine to the next. A fixed cosine bar on one degenerate input (the
empty text) measured the CPU, not the model. This check measures what otai needs from the encoder, on real
customer queries (BANKING77, data/banking77/), each run alone as otai runs them (batch size 1):

  * routing: a nearest-centroid classifier over the 77 intents, fitted on the train sample with each
    encoder's own embeddings and scored on the test sample. The int8 encoder's accuracy may fall at most
    MAX_ACCURACY_DROP below fp32's, and its predictions must agree with fp32's on at least MIN_AGREEMENT;
  * geometry: per-sentence cosine between the int8 and the fp32 embedding of the same real sentence, its
    mean and its 1st percentile (a few bad sentences pass the mean but not the percentile);
  * degenerate inputs (the empty text, one emoji, one letter) are reported but not judged: they carry no
    meaning to route by, and they are where CPUs differ most (0.979 on AVX2-only AMD, 0.984 with VNNI).

The margins were set from both kernel paths, measured side by side on one machine (native AVX-512 VNNI, and
`qemu-x86_64 -cpu EPYC-Rome` for AVX2 only; figures in models/README.md), and from deliberately damaged
encoders, which must fail (models/test_quant_check.py).

Usage: quant_check.py --fp32 DIR --int8 DIR [--data DIR] [--json FILE]. Exit status 1 when the check fails.
As a module: measure(...) and judge(...), used by build_encoder.py.
"""

import argparse
import csv
import json
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

# Thresholds. Measured (models/README.md): AVX2-only and AVX-512 VNNI both give agreement >= 0.97, accuracy
# within 0.7 points of fp32, mean cosine >= 0.99 and 1st percentile >= 0.985. An encoder whose weights keep
# only 4 bits of their int8 precision falls below every one of these.
MIN_AGREEMENT = 0.94
MAX_ACCURACY_DROP = 0.03
MIN_MEAN_COSINE = 0.98
MIN_P1_COSINE = 0.96

# Per intent: examples for the centroids and examples to score. 77 intents x (8 + 8) = 1,232 sentences, about
# 15 seconds per encoder on 2 cores.
TRAIN_PER_CLASS = 8
TEST_PER_CLASS = 8

# Inputs without meaning: reported, not judged.
DEGENERATE_TEXTS = ["", "😡", "a"]


@dataclass
class Sample:
    """Labelled sentences: the first TRAIN_PER_CLASS and TEST_PER_CLASS of every label, in file order."""

    train_texts: list
    train_labels: list
    test_texts: list
    test_labels: list


@dataclass
class Report:
    """What the check measured, and what it concluded."""

    cpu: dict
    sentences: int
    labels: int
    fp32_accuracy: float
    int8_accuracy: float
    agreement: float
    mean_cosine: float
    p1_cosine: float
    min_cosine: float
    degenerate_cosine: dict
    failures: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> dict:
        """The figures, rounded, for a model folder's provenance (where and what the build measured)."""
        keys = ("fp32_accuracy", "int8_accuracy", "agreement", "mean_cosine", "p1_cosine", "min_cosine")
        out = {k: round(getattr(self, k), 5) for k in keys}
        out["cpu"] = self.cpu
        out["passed"] = self.passed
        return out

    def lines(self) -> list:
        c = self.cpu
        flags = " ".join(f for f in ("AVX2", "AVX512F", "AVX512VNNI", "AVX_VNNI", "AMX") if c["features"].get(f))
        degenerate = " ".join(f"{text!r} {cos:.4f}" for text, cos in self.degenerate_cosine.items())
        return [
            f"check: CPU {c['vendor']} ({c['model']}), features seen by the kernels: {flags or 'none of AVX2/AVX-512'}",
            f"check: {self.labels} intents, {self.sentences} real sentences, each run alone (batch 1)",
            f"check: routing accuracy fp32 {self.fp32_accuracy:.4f}, int8 {self.int8_accuracy:.4f} "
            f"(drop {self.fp32_accuracy - self.int8_accuracy:+.4f}, at most {MAX_ACCURACY_DROP}); "
            f"int8 agrees with fp32 on {self.agreement:.4f} (at least {MIN_AGREEMENT})",
            f"check: int8 vs fp32 cosine on real sentences: mean {self.mean_cosine:.4f} (at least {MIN_MEAN_COSINE}), "
            f"1st percentile {self.p1_cosine:.4f} (at least {MIN_P1_COSINE}), min {self.min_cosine:.4f}",
            f"check: degenerate inputs (reported, not judged): {degenerate}",
        ]


def cpu_description() -> dict:
    """The CPU as ONNX Runtime's kernels see it. numpy reads CPUID itself, so this is right under an emulator
    too (where /proc/cpuinfo still describes the host)."""
    from numpy._core._multiarray_umath import __cpu_features__ as features

    vendor, model = "unknown", platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "vendor_id":
                vendor = value.strip()
            elif key.strip() == "model name":
                model = value.strip()
                break
    except OSError:
        pass
    wanted = ("AVX2", "AVX512F", "AVX512VNNI", "AVX512_VNNI", "AVX_VNNI", "AVXVNNI", "AMX")
    seen = {name: bool(features.get(name)) for name in wanted if name in features}
    # numpy spells VNNI differently across versions; report one name each.
    seen["AVX512VNNI"] = seen.pop("AVX512VNNI", False) or seen.pop("AVX512_VNNI", False)
    seen["AVX_VNNI"] = seen.pop("AVX_VNNI", False) or seen.pop("AVXVNNI", False)
    return {"vendor": vendor, "model": model, "features": seen}


def load_sample(data_dir: Path) -> Sample:
    """The first examples of every intent of BANKING77's train and test splits (deterministic)."""

    def take(path: Path, per_class: int):
        texts, labels, counts = [], [], {}
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                label = row["category"]
                if counts.get(label, 0) < per_class:
                    counts[label] = counts.get(label, 0) + 1
                    texts.append(row["text"])
                    labels.append(label)
        return texts, labels

    train_texts, train_labels = take(data_dir / "train.csv", TRAIN_PER_CLASS)
    test_texts, test_labels = take(data_dir / "test.csv", TEST_PER_CLASS)
    return Sample(train_texts, train_labels, test_texts, test_labels)


class Encoder:
    """One ONNX encoder with pooling in the graph, fed as otai feeds it: truncation at max_tokens, one
    sentence at a time (no padding)."""

    def __init__(self, onnx_path: Path, tokenizer_path: Path, max_tokens: int = 256, threads: int = 2):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_tokens)
        # Judging several candidates against one fp32 encoder embeds its sentences once.
        self.cache = {}

    def embed(self, texts) -> np.ndarray:
        rows = []
        for text in texts:
            if text in self.cache:
                rows.append(self.cache[text])
                continue
            e = self.tokenizer.encode(text)
            feeds = {
                "input_ids": np.array([e.ids], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids], dtype=np.int64),
            }
            row = self.session.run(None, {k: v for k, v in feeds.items() if k in self.inputs})[0][0]
            self.cache[text] = row
            rows.append(row)
        return np.stack(rows)


def nearest_centroid(train: np.ndarray, train_labels, test: np.ndarray) -> list:
    labels = sorted(set(train_labels))
    index = np.array([labels.index(label) for label in train_labels])
    centroids = np.stack([train[index == i].mean(0) for i in range(len(labels))])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    return [labels[i] for i in (test @ centroids.T).argmax(1)]


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)


def measure(fp32: Encoder, int8: Encoder, sample: Sample) -> Report:
    texts = sample.train_texts + sample.test_texts
    e32, e8 = fp32.embed(texts), int8.embed(texts)
    n = len(sample.train_texts)
    pred32 = nearest_centroid(e32[:n], sample.train_labels, e32[n:])
    pred8 = nearest_centroid(e8[:n], sample.train_labels, e8[n:])
    truth = sample.test_labels
    cos = cosine_rows(e8, e32)
    d32, d8 = fp32.embed(DEGENERATE_TEXTS), int8.embed(DEGENERATE_TEXTS)
    report = Report(
        cpu=cpu_description(),
        sentences=len(texts),
        labels=len(set(sample.train_labels)),
        fp32_accuracy=float(np.mean([p == t for p, t in zip(pred32, truth)])),
        int8_accuracy=float(np.mean([p == t for p, t in zip(pred8, truth)])),
        agreement=float(np.mean([a == b for a, b in zip(pred8, pred32)])),
        mean_cosine=float(cos.mean()),
        p1_cosine=float(np.percentile(cos, 1)),
        min_cosine=float(cos.min()),
        degenerate_cosine={t: float(c) for t, c in zip(DEGENERATE_TEXTS, cosine_rows(d8, d32))},
    )
    report.failures = judge(report)
    return report


def judge(r: Report) -> list:
    """Every threshold the report misses, as a sentence."""
    failures = []
    if r.fp32_accuracy - r.int8_accuracy > MAX_ACCURACY_DROP:
        failures.append(
            f"int8 routing accuracy {r.int8_accuracy:.4f} is {r.fp32_accuracy - r.int8_accuracy:.4f} below fp32's "
            f"{r.fp32_accuracy:.4f} (at most {MAX_ACCURACY_DROP})"
        )
    if r.agreement < MIN_AGREEMENT:
        failures.append(f"int8 agrees with fp32 on {r.agreement:.4f} of the test sentences (at least {MIN_AGREEMENT})")
    if r.mean_cosine < MIN_MEAN_COSINE:
        failures.append(f"mean int8 vs fp32 cosine {r.mean_cosine:.4f} < {MIN_MEAN_COSINE}")
    if r.p1_cosine < MIN_P1_COSINE:
        failures.append(f"1st percentile of int8 vs fp32 cosine {r.p1_cosine:.4f} < {MIN_P1_COSINE}")
    return failures


def check_folders(fp32_dir: Path, int8_dir: Path, data_dir: Path, int8_onnx: Path = None) -> Report:
    """Measures the encoders of two otai model folders (int8_onnx overrides the int8 folder's graph)."""
    tokenizer = fp32_dir / "tokenizer.json"
    fp32 = Encoder(fp32_dir / "encoder.onnx", tokenizer)
    int8 = Encoder(int8_onnx or (int8_dir / "encoder.onnx"), int8_dir / "tokenizer.json")
    return measure(fp32, int8, load_sample(data_dir))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fp32", type=Path, required=True, help="fp32 model folder (encoder.onnx, tokenizer.json)")
    ap.add_argument("--int8", type=Path, required=True, help="int8 model folder to judge")
    ap.add_argument("--int8-onnx", type=Path, help="judge this graph instead of the int8 folder's encoder.onnx")
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parent.parent / "data" / "banking77")
    ap.add_argument("--json", type=Path, help="also write the report here as JSON")
    args = ap.parse_args()
    report = check_folders(args.fp32, args.int8, args.data, args.int8_onnx)
    for line in report.lines():
        print(line)
    if args.json:
        args.json.write_text(json.dumps(dict(asdict(report), passed=report.passed), indent=2) + "\n")
    for failure in report.failures:
        print(f"error: {failure}", file=sys.stderr)
    if report.failures:
        print("error: the int8 encoder fails the quantisation check (see models/README.md)", file=sys.stderr)
        return 1
    print("check: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
