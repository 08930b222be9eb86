"""The ONNX Runtime provider: a sentence-transformers model run as an ONNX graph, fp32 or with int8 weights, on the
CPU, without torch once exported (ingest.onnx_export makes and caches the files).

Tokenizing is the model's tokenizer.json (the `tokenizers` package), cut at the model's max_seq_length as
sentence-transformers cuts it; pooling is the model's own (mean of the token states, or [CLS]), then unit length.
fp32 gives sentence-transformers' vectors (cosine > 0.999, tested), so it records the same model id and serves an
index torch built. int8 weights move vectors a little (cosine about 0.99), so its index records
`onnx-int8:<model>` and is never searched with fp32 vectors, nor the other way round.

A session runs any number of calls at once, so a search's question is encoded beside an indexing batch, never
behind it; texts are encoded in small batches of similar length (little padding), as sentence-transformers does.
"""

from __future__ import annotations

import json
import logging
import threading

import numpy as np
import psutil

from vaultrag.ingest.embedder import EmbedderBase, ModelFiles
from vaultrag.ingest.errors import ModelUnavailable

log = logging.getLogger(__name__)

INT8_PREFIX = "onnx-int8:"
BATCH = 16  # texts per run: on a CPU small batches are fastest (as for torch)


def installed() -> bool:
    """Whether ONNX Runtime and the ONNX library (for quantizing) can be imported."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


class OnnxEmbedder(EmbedderBase):
    """Normalised sentence embeddings of `files` through ONNX Runtime; `precision` is "fp32" or "int8"."""

    def __init__(self, files: ModelFiles, precision: str = "int8", batch_size: int = 0, *, passage_prefix: str = "",
                 query_prefix: str = "", threads: int = 0):
        self._source = files  # what is exported; `files` records the id of the vectors this precision gives
        self.files = ModelFiles(INT8_PREFIX + files.model_id, files.folder) if precision == "int8" else files
        self.precision = precision
        self._prefixes = {False: passage_prefix, True: query_prefix}
        self._batch = batch_size or BATCH
        self._threads = threads or psutil.cpu_count(logical=False) or 1
        self._session = None
        self._tokenizer = None
        self._cls = False
        self._lock = threading.Lock()

    def _vectors(self, texts: list[str], query: bool) -> np.ndarray:
        session, tokenizer = self._loaded()
        encodings = tokenizer.encode_batch(self._prefixed(texts, query))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), 0), dtype=np.float32)
        for start in range(0, len(order), self._batch):
            rows = order[start:start + self._batch]
            vectors = self._run(session, [encodings[i] for i in rows])
            if out.shape[1] == 0:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
        return out

    def _run(self, session, encodings) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, :len(e.ids)], mask[row, :len(e.ids)], types[row, :len(e.ids)] = e.ids, 1, e.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        wanted = {i.name for i in session.get_inputs()}
        hidden = session.run(None, {k: v for k, v in feeds.items() if k in wanted})[0]
        if self._cls:
            pooled = hidden[:, 0]
        else:
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def _loaded(self):
        with self._lock:
            if self._session is None:
                self._session, self._tokenizer = self._load()
            return self._session, self._tokenizer

    def _load(self):
        import onnxruntime
        from tokenizers import Tokenizer

        from vaultrag.ingest.onnx_export import onnx_file

        try:
            path = onnx_file(self._source, self.precision)
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self._threads
            options.log_severity_level = 3  # errors only
            # idle threads sleep instead of spinning: a search's run and an indexing batch's share the cores
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelUnavailable(f"embedding model {self.files.model_id!r} could not be run with ONNX Runtime "
                                   f"({self.precision}): {type(exc).__name__}: {exc}; set embedding.provider = "
                                   '"sentence-transformers" to use torch') from None
        tokenizer = Tokenizer.from_file(str(self.files.folder / "tokenizer.json"))
        tokenizer.enable_truncation(self.files.max_seq_length)
        tokenizer.no_padding()
        pooling = self.files.folder / "1_Pooling" / "config.json"
        self._cls = pooling.is_file() and bool(json.loads(pooling.read_text()).get("pooling_mode_cls_token"))
        log.info("embedding model %s loaded in ONNX Runtime on cpu (%s, %d threads, max %d tokens, batch %d)",
                 self.files.model_id, self.precision, self._threads, self.files.max_seq_length, self._batch)
        return session, tokenizer
