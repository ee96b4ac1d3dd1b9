#!/usr/bin/env python3
"""The quantisation check passes the real int8 encoder and fails deliberately damaged ones.

The damaged encoders are the real int8 graph with its weights coarsened after quantisation: 4 bits and 3 bits
of precision left instead of 8 (what too aggressive a quantisation does). Run by `make test` through the
project's venv: `.venv/bin/python -m unittest discover -s models -p 'test_*.py'`. Needs models/setup.sh to
have built models/minilm-l6-int8 and models/minilm-l6-fp32 (the Makefile's test target sees to that).
"""

import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

MODELS = Path(__file__).resolve().parent
sys.path.insert(0, str(MODELS))

import quant_check  # noqa: E402

FP32 = MODELS / "minilm-l6-fp32"
INT8 = MODELS / "minilm-l6-int8"
DATA = MODELS.parent / "data" / "banking77"


def coarsen_weights(src: Path, dst: Path, bits: int) -> int:
    """Writes src with every MatMulInteger weight rounded to `bits` bits of precision; returns how many
    weight tensors changed."""
    model = onnx.load(str(src))
    weights = {node.input[1] for node in model.graph.node if node.op_type == "MatMulInteger"}
    step = 2 ** (8 - bits)
    changed = 0
    for init in model.graph.initializer:
        if init.name in weights and init.data_type == onnx.TensorProto.INT8:
            w = numpy_helper.to_array(init).astype(np.int32)
            coarse = np.clip(np.round(w / step) * step, -128, 127).astype(np.int8)
            init.CopyFrom(numpy_helper.from_array(coarse, init.name))
            changed += 1
    onnx.save(model, str(dst))
    return changed


class QuantCheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for folder in (FP32, INT8):
            if not (folder / "encoder.onnx").is_file():
                raise RuntimeError(f"{folder}/encoder.onnx is missing: run models/setup.sh (make setup) first")
        cls.fp32 = quant_check.Encoder(FP32 / "encoder.onnx", FP32 / "tokenizer.json")
        cls.sample = quant_check.load_sample(DATA)
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def judge(self, onnx_path: Path) -> quant_check.Report:
        report = quant_check.measure(self.fp32, quant_check.Encoder(onnx_path, INT8 / "tokenizer.json"), self.sample)
        print("\n" + "\n".join(report.lines()), file=sys.stderr)
        return report

    def damaged(self, bits: int) -> Path:
        path = Path(self.tmp.name) / f"encoder-{bits}bit.onnx"
        self.assertEqual(coarsen_weights(INT8 / "encoder.onnx", path, bits), 36, "MiniLM-L6 has 36 weight matrices")
        return path

    def test_sample_covers_every_intent(self):
        self.assertEqual(len(set(self.sample.train_labels)), 77)
        self.assertEqual(len(self.sample.test_texts), 77 * quant_check.TEST_PER_CLASS)

    def test_the_real_int8_encoder_passes(self):
        report = self.judge(INT8 / "encoder.onnx")
        self.assertEqual(report.failures, [])
        self.assertTrue(report.passed)

    def test_an_encoder_with_4_bit_weights_fails(self):
        report = self.judge(self.damaged(4))
        self.assertFalse(report.passed)
        self.assertTrue(any("cosine" in f for f in report.failures), report.failures)

    def test_an_encoder_with_3_bit_weights_fails_on_routing_too(self):
        report = self.judge(self.damaged(3))
        self.assertFalse(report.passed)
        self.assertTrue(any("agrees with fp32" in f for f in report.failures), report.failures)

    def test_the_fp32_encoder_judged_against_itself_is_perfect(self):
        report = self.judge(FP32 / "encoder.onnx")
        self.assertEqual(report.agreement, 1.0)
        self.assertAlmostEqual(report.mean_cosine, 1.0, places=5)


if __name__ == "__main__":
    unittest.main()
