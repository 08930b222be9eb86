"""The bundled all-MiniLM-L6-v2 in ONNX Runtime: exported once from the bundled weights (offline), fp32 giving
sentence-transformers' vectors, int8 its own index, and an export that two racing writers leave whole."""

from __future__ import annotations

import shutil
import threading

import numpy as np
import onnxruntime

from vaultrag.ingest import onnx_export
from vaultrag.ingest.embedder import BUNDLED_MODEL, locate_model
from vaultrag.ingest.embedders import configured_embedder
from vaultrag.ingest.index import DataDir, collection_name
from vaultrag.ingest.onnx_embedder import OnnxEmbedder
from vaultrag.ingest.pipeline import sync_vault
from vaultrag.service.search.searcher import Searcher

TEXTS = ["Knead the dough for ten minutes, then let it rise overnight.",
         "Tram 28 climbs through Alfama; go early before the crowds.",
         "",  # an empty chunk still gets a vector
         "Ünïcödé, emoji 🌱 and 日本語の文章 in one line.",
         "a long note " * 400]  # past the model's 256 tokens: cut off as sentence-transformers cuts it


def test_fp32_gives_sentence_transformers_vectors(embedder):
    onnx = OnnxEmbedder(locate_model(BUNDLED_MODEL), "fp32")
    torch_vectors, onnx_vectors = embedder.embed(TEXTS), onnx.embed(TEXTS)
    assert onnx_vectors.shape == torch_vectors.shape == (len(TEXTS), 384)
    assert (onnx_vectors * torch_vectors).sum(axis=1).min() > 0.999
    np.testing.assert_allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    query = onnx.embed_query(["when does the dough rise"])[0]
    assert int(np.argmax(onnx_vectors @ query)) == 0
    assert onnx.model_id == BUNDLED_MODEL  # the same vectors: it serves an index torch built


def test_int8_is_close_and_records_its_own_model_id(embedder):
    int8 = OnnxEmbedder(locate_model(BUNDLED_MODEL), "int8")
    similarity = (int8.embed(TEXTS[:2]) * embedder.embed(TEXTS[:2])).sum(axis=1)
    assert similarity.min() > 0.95
    assert int8.model_id == f"onnx-int8:{BUNDLED_MODEL}"


def test_an_int8_index_is_built_and_searched_with_int8(write_vault, settings_for):
    vault = write_vault({"Kitchen/Bread.md": TEXTS[0], "Travel/Lisbon.md": TEXTS[1]})
    settings = settings_for(vault, **{"embedding.model": BUNDLED_MODEL, "embedding.provider": "onnx",
                                      "embedding.precision": "int8"})
    assert configured_embedder(settings).model_id == f"onnx-int8:{BUNDLED_MODEL}"
    assert sync_vault(settings).complete
    data = DataDir(settings.data_dir)
    assert data.active_name() == collection_name(settings.vault_path, f"onnx-int8:{BUNDLED_MODEL}")
    searcher = Searcher(settings)
    try:
        assert searcher.search("which tram goes up the hill", 1, mode="dense")[0].path == "Travel/Lisbon.md"
    finally:
        searcher.close()


def test_two_writers_racing_leave_one_whole_file(tmp_path, monkeypatch):
    files = locate_model(BUNDLED_MODEL)
    fp32 = onnx_export.onnx_file(files, "fp32")  # exported once for the session (cached)
    fresh = tmp_path / "cache"
    fresh.mkdir()
    shutil.copy(fp32, fresh / fp32.name)
    monkeypatch.setattr(onnx_export, "cache_dir", lambda _: fresh)
    got, errors = [], []

    def quantize():
        try:
            got.append(onnx_export.onnx_file(files, "int8"))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    racers = [threading.Thread(target=quantize) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert not errors and got[0] == got[1] == fresh / "model-int8.onnx"
    assert sorted(p.name for p in fresh.iterdir()) == ["export.lock", "model-fp32.onnx", "model-int8.onnx"]
    onnxruntime.InferenceSession(str(got[0]), providers=["CPUExecutionProvider"])  # whole: it loads
