#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets: tests/fuzz/corpus/<target>/seed-*.

Each seed is a small valid (or nearly valid) input that leads the fuzzer into the parser's interesting parts:
tiny ONNX models of the ops the passes and the TFLite writer handle, external data inside and outside the
model's folder, IDX / CIFAR-10 / CSV / JSONL / mail / review files, images of every format the header reader
knows, recipes, runner reports. Hand-made reproducers of findings are committed beside them as regression-*;
this script never touches those.

Needs python3-onnx and python3-pil (Debian; installer/install-deps.sh installs both); with python3-torch, also
one model exported by the real torch.onnx exporter.
Usage: python3 tests/fuzz/make_seeds.py   (rewrites every seed-* file; the corpora are committed)
"""
import gzip
import io
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
RECIPES = os.path.join(HERE, "..", "..", "resources", "recipes")


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data)


def clear_seeds():
    for target in os.listdir(CORPUS):
        folder = os.path.join(CORPUS, target)
        for name in os.listdir(folder):
            if name.startswith("seed-"):
                os.remove(os.path.join(folder, name))


# ---- ONNX models (onnx_model and tflite_export) ----

def weights(shape, seed):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 0.1).astype(np.float32)


def init(name, array):
    return numpy_helper.from_array(array, name)


def model(nodes, inputs, outputs, initializers, opset=17, name="seed", value_info=()):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializers, value_info=list(value_info))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="make_seeds")
    m.ir_version = 8
    return m.SerializeToString()


def image_input(name="input", c=1, hw=4):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", c, hw, hw])


def onnx_seeds():
    seeds = {}
    seeds["conv_relu.onnx"] = model(
        [helper.make_node("Conv", ["input", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c"], ["logits"], name="relu")],
        [image_input()], [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2, 4, 4])],
        [init("w", weights((2, 1, 3, 3), 1)), init("b", weights((2,), 2))])
    seeds["cnn_bn_pool_gemm.onnx"] = model(
        [helper.make_node("Conv", ["input", "w1"], ["c1"], name="conv1", kernel_shape=[3, 3], strides=[1, 1],
                          pads=[1, 1, 1, 1]),
         helper.make_node("BatchNormalization", ["c1", "g", "beta", "mean", "var"], ["bn"], name="bn1",
                          epsilon=1e-5),
         helper.make_node("Relu", ["bn"], ["r1"], name="relu1"),
         helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("Conv", ["p1", "wd"], ["dw"], name="depthwise", kernel_shape=[3, 3], group=4,
                          pads=[1, 1, 1, 1]),
         helper.make_node("Add", ["dw", "p1"], ["res"], name="residual"),
         helper.make_node("GlobalAveragePool", ["res"], ["gap"], name="gap"),
         helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
         helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], name="fc", transB=1)],
        [image_input(c=3, hw=8)], [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])],
        [init("w1", weights((4, 3, 3, 3), 3)), init("g", np.ones(4, np.float32)),
         init("beta", np.zeros(4, np.float32)), init("mean", np.zeros(4, np.float32)),
         init("var", np.ones(4, np.float32)), init("wd", weights((4, 1, 3, 3), 4)),
         init("fc_w", weights((3, 4), 5)), init("fc_b", weights((3,), 6))])
    seeds["mlp.onnx"] = model(
        [helper.make_node("Flatten", ["input"], ["f"], name="flatten"),
         helper.make_node("Gemm", ["f", "w1", "b1"], ["h"], name="fc1", transB=1),
         helper.make_node("Relu", ["h"], ["r"], name="relu"),
         helper.make_node("MatMul", ["r", "w2"], ["m"], name="fc2"),
         helper.make_node("Add", ["m", "b2"], ["a"], name="fc2_bias"),
         helper.make_node("Softmax", ["a"], ["logits"], name="softmax", axis=-1)],
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 2, 2])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2])],
        [init("w1", weights((3, 4), 7)), init("b1", weights((3,), 8)), init("w2", weights((3, 2), 9)),
         init("b2", weights((2,), 10))])
    # The BERT exports' patterns: Gather embeddings, LayerNormalization, attention MatMuls, Erf GELU, Shape ops.
    seeds["attention.onnx"] = model(
        [helper.make_node("Gather", ["emb", "input_ids"], ["x"], name="embeddings"),
         helper.make_node("LayerNormalization", ["x", "ln_g", "ln_b"], ["ln"], name="ln", axis=-1),
         helper.make_node("MatMul", ["ln", "wq"], ["q"], name="query"),
         helper.make_node("MatMul", ["ln", "wk"], ["k"], name="key"),
         helper.make_node("Transpose", ["k"], ["kt"], name="kt", perm=[0, 2, 1]),
         helper.make_node("MatMul", ["q", "kt"], ["scores"], name="scores"),
         helper.make_node("Div", ["scores", "scale"], ["scaled"], name="scale"),
         helper.make_node("Softmax", ["scaled"], ["probs"], name="probs", axis=-1),
         helper.make_node("MatMul", ["probs", "ln"], ["ctx"], name="context"),
         helper.make_node("Div", ["ctx", "sqrt2"], ["g0"], name="gelu_div"),
         helper.make_node("Erf", ["g0"], ["g1"], name="gelu_erf"),
         helper.make_node("Add", ["g1", "one"], ["g2"], name="gelu_add"),
         helper.make_node("Mul", ["ctx", "g2"], ["g3"], name="gelu_mul"),
         helper.make_node("Shape", ["g3"], ["shape"], name="shape"),
         helper.make_node("Slice", ["g3", "starts", "ends", "axes"], ["first"], name="cls_token"),
         helper.make_node("Reshape", ["first", "flat_shape"], ["pooled"], name="pool_reshape"),
         helper.make_node("Gemm", ["pooled", "cls_w"], ["logits"], name="classifier", transB=1)],
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["N", 4])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2])],
        [init("emb", weights((10, 4), 11)), init("ln_g", np.ones(4, np.float32)),
         init("ln_b", np.zeros(4, np.float32)), init("wq", weights((4, 4), 12)), init("wk", weights((4, 4), 13)),
         init("scale", np.array(2.0, np.float32)), init("sqrt2", np.array(1.4142135, np.float32)),
         init("one", np.array(1.0, np.float32)), init("starts", np.array([0], np.int64)),
         init("ends", np.array([1], np.int64)), init("axes", np.array([1], np.int64)),
         init("flat_shape", np.array([-1, 4], np.int64)), init("cls_w", weights((2, 4), 14))])
    # Quantized: what quantize --mode static writes (Q/DQ pairs, integer weights).
    seeds["qdq.onnx"] = model(
        [helper.make_node("QuantizeLinear", ["input", "s", "z"], ["q"], name="q_in"),
         helper.make_node("DequantizeLinear", ["q", "s", "z"], ["dq"], name="dq_in"),
         helper.make_node("DequantizeLinear", ["w_int8", "ws", "wz"], ["w"], name="dq_w"),
         helper.make_node("Conv", ["dq", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
         helper.make_node("Relu", ["c"], ["logits"], name="relu")],
        [image_input(c=2, hw=2)], [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2, 2, 2])],
        [init("s", np.array(0.05, np.float32)), init("z", np.array(0, np.uint8)),
         init("w_int8", np.arange(-2, 2, dtype=np.int8).reshape(2, 2, 1, 1)),
         init("ws", np.array(0.1, np.float32)), init("wz", np.array(0, np.int8))])
    seeds["pool_concat_opset13.onnx"] = model(
        [helper.make_node("Constant", [], ["k"], name="const", value=init("kv", np.array([2], np.int64))),
         helper.make_node("AveragePool", ["input"], ["a"], name="avg", kernel_shape=[2, 2], pads=[0, 0, 1, 1]),
         helper.make_node("ConvTranspose", ["input", "wt"], ["t"], name="up", kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("MaxPool", ["t"], ["m"], name="down", kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("Concat", ["a", "m"], ["cat"], name="cat", axis=1),
         helper.make_node("ReduceMean", ["cat"], ["logits"], name="mean", axes=[2, 3], keepdims=0),
         helper.make_node("Unsqueeze", ["logits", "k"], ["extra"], name="unsq")],
        [image_input(c=1, hw=4)], [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2])],
        [init("wt", weights((1, 1, 2, 2), 15))], opset=13)
    seeds["opset18_reduce.onnx"] = model(
        [helper.make_node("ReduceMean", ["input", "axes"], ["logits"], name="mean", keepdims=0)],
        [image_input(c=2, hw=2)], [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2])],
        [init("axes", np.array([2, 3], np.int64))], opset=18)
    then_graph = helper.make_graph([helper.make_node("Relu", ["input"], ["y_then"])], "then", [],
                                   [helper.make_tensor_value_info("y_then", TensorProto.FLOAT, None)])
    else_graph = helper.make_graph([helper.make_node("Neg", ["input"], ["y_else"])], "else", [],
                                   [helper.make_tensor_value_info("y_else", TensorProto.FLOAT, None)])
    seeds["if_subgraph.onnx"] = model(
        [helper.make_node("If", ["cond"], ["logits"], name="branch", then_branch=then_graph,
                          else_branch=else_graph)],
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2])],
        [init("cond", np.array(True))])

    # External data: weights.bin lies beside the model in the fuzz target's folder; escape.bin is a symlink out of
    # it and ../fixed/secret.bin a path out of it (both must be refused).
    def external(location, offset=0, length=16):
        w = TensorProto()
        w.name = "w"
        w.data_type = TensorProto.FLOAT
        w.dims.extend([1, 1, 2, 2])
        w.data_location = TensorProto.EXTERNAL
        for key, value in (("location", location), ("offset", str(offset)), ("length", str(length))):
            entry = w.external_data.add()
            entry.key, entry.value = key, value
        return model([helper.make_node("Conv", ["input", "w"], ["logits"], name="conv", kernel_shape=[2, 2])],
                     [image_input(c=1, hw=2)],
                     [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 1, 1, 1])], [w])
    seeds["external_weights.onnx"] = external("weights.bin", 16)
    seeds["external_symlink_out.onnx"] = external("escape.bin")
    seeds["external_dotdot.onnx"] = external("../fixed/secret.bin")
    seeds["external_offset_overflow.onnx"] = external("weights.bin", 2**63 - 8, 16)

    # The hostile models of issue 16, refused by validation: they lead the fuzzer to its checks.
    seeds["conv_strides_zero.onnx"] = model(
        [helper.make_node("Conv", ["input", "w"], ["logits"], name="conv", kernel_shape=[3, 3], strides=[0, 0])],
        [image_input()], [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2, "H", "W"])],
        [init("w", weights((2, 1, 3, 3), 16))])
    short_bias = init("b", weights((1,), 17))
    seeds["conv_short_bias.onnx"] = model(
        [helper.make_node("Conv", ["input", "w", "b"], ["logits"], name="conv", kernel_shape=[3, 3])],
        [image_input()], [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2, "H", "W"])],
        [init("w", weights((2, 1, 3, 3), 16)), short_bias])
    huge = TensorProto()
    huge.name, huge.data_type = "w", TensorProto.FLOAT
    huge.dims.extend([2**32, 2**32, 2, 1])
    huge.raw_data = b"\0" * 16
    seeds["dims_overflow.onnx"] = model(
        [helper.make_node("MatMul", ["input", "w"], ["logits"], name="mm")],
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", "K"])], [huge])
    return seeds


def torch_seed():
    """One model from the real torch.onnx exporter (Identity nodes on initializers and all), if torch is here."""
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.BatchNorm2d(2), torch.nn.ReLU(),
                              torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(8, 3)).eval()
    buffer = io.BytesIO()
    torch.onnx.export(net, torch.zeros(1, 1, 4, 4), buffer, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=17)
    return buffer.getvalue()


# ---- datasets ----

def idx(magic, dims, data):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def idx_framed(flags, labels, images):
    return bytes([flags]) + struct.pack("<H", len(labels)) + labels + images


def dataset_seeds():
    images3 = idx(0x803, [3, 2, 2], range(12))
    labels3 = idx(0x801, [3], [0, 1, 9])
    write("idx", "three_2x2", idx_framed(0, labels3, images3))
    write("idx", "three_2x2_gzip", idx_framed(3, labels3, images3))
    write("idx", "fashion_28x28", idx_framed(4, idx(0x801, [1], [9]), idx(0x803, [1, 28, 28], [i % 256 for i in range(784)])))
    write("idx", "count_mismatch", idx_framed(0, idx(0x801, [2], [0, 1]), images3))
    # Pre-compressed with flags 0: the reader sees a gzip stream longer than its header promises.
    write("idx", "gzip_longer_than_header", idx_framed(0, gzip.compress(labels3 + b"\0" * 64), gzip.compress(images3)))

    record = lambda label, value: bytes([label]) + bytes([value]) * 3072
    meta = b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"
    write("cifar10", "two_records_meta", struct.pack("<H", len(meta)) + meta + record(3, 128) + record(9, 7))
    write("cifar10", "one_record", struct.pack("<H", 0) + record(0, 255))
    write("cifar10", "three_classes", struct.pack("<H", 6) + b"a\nb\r\nc" + record(2, 1))
    write("cifar10", "truncated", struct.pack("<H", 0) + record(1, 1)[:3000])

    write("csv", "int_labels", "text,label\ngood movie,1\nbad movie,0\n")
    write("csv", "string_labels_quoted",
          "\xef\xbb\xbfid,text,label\r\n1,\"free, money\nnow\",spam\r\n2,\"the \"\"movie\"\"\",ham\r\n")
    write("csv", "unicode", "label,text\n2,Caf\u00e9 \u00e0 la cr\u00e8me \u4e2d\u6587\n0,na\u00efve\u0301\n")
    write("jsonl", "int_labels", '{"text": "free money", "label": 1}\n{"text": "the movie", "label": 0}\n')
    write("jsonl", "string_labels", '{"text": "caf\\u00e9 \\ud83d\\ude80", "label": "spam"}\n\n'
          '{"label": "ham", "text": "ok", "extra": [1, {"a": null}]}\r\n')
    mail = ("From spamassassin  Thu Aug 22 2002\nReturn-Path: <a@b.c>\nSubject: Free money\n  now folded\n"
            "From: A <a@b.c>\nContent-Type: text/plain\n\nHello,\r\nthe body <b>here</b>.\n")
    record_json = json.dumps({"id": "00001.abc", "group": "spam-1", "checksum": {"type": "MD5", "value": "0"},
                              "text": mail})
    write("spamassassin", "spam_raw", bytes([3 << 1]) + record_json.encode())
    write("spamassassin", "spam_body", bytes([1 | (3 << 1)]) + record_json.encode())
    write("spamassassin", "ham_no_header", bytes([1]) + json.dumps({"text": "just a body\n\nno header"}).encode())
    write("imdb", "four_reviews", "A great movie.<br /><br />Loved it\0Terrible<br />\0Okay film\0Bad, bad, bad")
    write("imdb", "one_review", "Only one review")

    from PIL import Image
    pixels = Image.new("RGB", (3, 2), (200, 10, 30))
    for fmt, ext in (("PNG", "png"), ("JPEG", "jpg"), ("BMP", "bmp"), ("PPM", "ppm"), ("TIFF", "tiff"),
                     ("WEBP", "webp")):
        out = io.BytesIO()
        pixels.save(out, fmt)
        write("image_header", "rgb_3x2." + ext, out.getvalue())
    out = io.BytesIO()
    Image.new("L", (2, 3), 90).save(out, "PNG")
    write("image_header", "gray_2x3.png", out.getvalue())
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (1, 2, 3)).save(out, "JPEG", progressive=True)
    write("image_header", "progressive_4x4.jpg", out.getvalue())
    write("image_header", "pgm_ascii_2x2.pgm", "P2\n# a comment\n2 2\n255\n0 64\n128 255\n")
    write("image_header", "pbm_3x1.pbm", "P1\n3 1\n1 0 1\n")


# ---- the tokenizer ----

def tokenizer_seeds():
    text = "Hello, World! Unaffable caf\u00e9 na\u00efve \u4e2d\u6587 [CLS] e\u0301 \t\u00a0x\u200b"
    write("tokenizer", "bundled_lower", bytes([1, 16]) + text.encode())
    write("tokenizer", "bundled_cased", bytes([0, 40]) + text.encode() + b"\xff\xc3(\xe2\x82")
    vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\r\nun\n##aff\n##able\nhello\n,\n!\nworld\n"
    write("tokenizer", "own_vocab", bytes([1 | (2 << 1), 8]) + vocab.encode() + b"\0unaffable hello, world!")
    write("tokenizer", "own_vocab_missing_sep", bytes([2 << 1, 8]) + b"[PAD]\n[UNK]\n[CLS]\n\0text")
    corpus = "free money now\0the movie was good\0caf\u00e9 \u4e2d\u6587 !!\0unaffable"
    write("tokenizer", "build_vocab", bytes([1 | (3 << 1), 30]) + corpus.encode())
    write("tokenizer", "build_vocab_too_small", bytes([3 << 1, 1]) + corpus.encode())


# ---- dataset specs ----

def spec_seeds():
    # byte 0 = mode (core/fuzz_dataset_spec.cpp): 0 a whole spec, parsed only; 1.. the query of a fixture's spec.
    for i, spec in enumerate([
            "fashion-mnist:train?subset=val&val=0.1&seed=1&limit=500",
            "cifar10:/data/cifar-10-batches-bin?split=test",
            "imagefolder:/data/flowers?split=train&size=96&mean=0.5&std=0.5",
            "spamassassin:corpus?vocab=vocab.txt&seq_len=128&subset=test&mail=body",
            "csv:reviews.csv?vocab=vocab.txt&text=review&label=sentiment&lowercase=false",
            "idx:x?classes=mnist&val_count=3&subset=train&test=0.2"]):
        write("dataset_spec", f"parse_{i}", bytes([0]) + spec.encode())
    for mode, query in [(1, "split=train&mean=0.5&std=0.25&limit=4"), (1, "split=test&subset=val&val=0.5&seed=7"),
                        (2, "classes=fashion-mnist"), (3, "split=train&subset=test&test=0.5"),
                        (4, "mean=0.5,0.5,0.5&std=1,1,1"), (5, "split=train&size=3&channels=1"),
                        (6, "text=text&label=label&seq_len=8&lowercase=true"), (7, "subset=train&val_count=1&test=0"),
                        (8, "mail=body&limit=1"), (9, "split=test&seq_len=4")]:
        write("dataset_spec", f"open_{mode}_{len(query)}", bytes([mode]) + query.encode())


# ---- recipes ----

def recipe_seeds():
    for name in ("paper-image.yaml", "paper-text.yaml"):
        with open(os.path.join(RECIPES, name), "rb") as f:
            write("recipe", name, f.read())
    write("recipe", "all_core_steps.yaml", """format: edgetune-recipe
version: 2
name: all-core
model: zoo:resnet20?classes=10&input_channels=1&image_size=28
datasets: {test: fashion-mnist, calibration: "fashion-mnist:train?limit=64", validation: fashion-mnist}
steps:
  - clean: {}
  - sensitivity: {ratios: [0.25, 0.5], limit: 100}
  - id: pruned
    kind: prune
    input: clean
    options: {method: channels, ratio: 0.3, sensitivity: sensitivity}
  - quantize: {mode: static, samples: 16}
  - evaluate: {data: test, limit: 50}
  - benchmark: {threads: [1, 2], runs: 20, warmup: 2}
  - id: off
    kind: export
    enabled: false
    options: {file: model.onnx, format: tflite, nhwc_input: true}
  - deploy: {device: pi, remote_dir: models, timeout_s: 30, retries: 2, accept_new_host_key: false}
# --set line:
pruned.ratio=0.5
""")
    write("recipe", "anchors_and_scalars.yaml", """format: edgetune-recipe
version: 2
name: "scalars \\u00e9 \\U0001F680"
description: &d |
  multi
  line
model: ../m.onnx
datasets: {train: "idx:{recipe_dir}/data?split=train"}
steps:
  - quantize: &q {mode: dynamic, exclude_ops: [MatMul, Gemm], ratio: .nan, x: -0.0, y: 0x1F, z: 1e400, t: ~}
  - id: again
    kind: quantize
    options: *q
""")
    write("recipe", "minimal.json", json.dumps({"format": "edgetune-recipe", "version": 2, "name": "j",
                                                "model": "m.onnx", "steps": [{"clean": {}}]}))


# ---- the runner's report and the device probe ----

def runner_seeds():
    report = {"arch": "aarch64", "onnxruntime_version": "1.29.0", "runner_version": 3, "cpu_cores": 4,
              "model": "/home/pi/edgetune/models/m.onnx", "peak_rss_bytes": 41943040,
              "results": [{"threads": 1, "runs": 50, "min_ms": 1.5, "median_ms": 1.7, "mean_ms": 1.8, "p90_ms": 2.0,
                           "p99_ms": 2.5, "max_ms": 3.0, "stdev_ms": 0.1, "peak_rss_bytes": 41943040,
                           "baseline": {"median_ms": 3.4, "p90_ms": 3.9}, "speedup": 2.0}],
              "profile": {"threads": 1, "nodes": [{"name": "conv1", "op": "Conv", "total_us": 1200, "calls": 50,
                                                   "mean_us": 24.0}]},
              "accuracy": {"examples": 100, "correct": 91, "top1": 0.91, "mean_latency_ms": 1.9}}
    write("runner_output", "report.json", "2026-01-01 [W:onnxruntime] a warning\n" + json.dumps(report) + "\n")
    write("runner_output", "error.json", '{"error": "cannot load /home/pi/m.onnx: bad model"}\n')
    write("runner_output", "minimal.json", '{"results": []}')
    write("runner_output", "probe.txt",
          "@@uname\nLinux\n6.1.0-rpi7-rpi-v8\naarch64\n@@os\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
          "@@cpuinfo\nprocessor\t: 0\nFeatures\t: fp asimd evtstrm crc32 cpuid asimddp\nCPU implementer\t: 0x41\n"
          "CPU part\t: 0xd08\nprocessor\t: 1\n\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n@@nproc\n4\n"
          "@@meminfo\nMemTotal:        3884376 kB\nMemAvailable:    3100000 kB\n@@runner\nedgetune-runner 3 "
          "onnxruntime 1.29.0\r\n@@ortlib\n/usr/lib/libonnxruntime.so.1\n@@python\n1.16.0\n@@end\n")


def main():
    os.makedirs(CORPUS, exist_ok=True)
    clear_seeds()
    seeds = onnx_seeds()
    exported = torch_seed()
    if exported is not None:
        seeds["torch_export_small_cnn.onnx"] = exported
    else:
        print("make_seeds: python3-torch not found, no torch.onnx export seed", file=sys.stderr)
    for name, data in seeds.items():
        write("onnx_model", name, data)
        write("tflite_export", name, data)
    dataset_seeds()
    tokenizer_seeds()
    spec_seeds()
    recipe_seeds()
    runner_seeds()
    for target in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, target))
        size = sum(os.path.getsize(os.path.join(CORPUS, target, f)) for f in files)
        print(f"{target}: {len(files)} files, {size} bytes")


if __name__ == "__main__":
    main()
