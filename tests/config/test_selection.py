"""Model selection as a pure function of a machine, the catalogue, what is installed and the vault's languages.

The profiles are machines people run vaultrag on; each test pins what `auto` picks there and why.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from vaultrag.config.catalogue import MODELS_TOML, load_catalogue
from vaultrag.config.errors import ConfigError
from vaultrag.config.hardware import Gpu, HardwareProfile
from vaultrag.config.selection import (CHUNKS_PER_NOTE, CPU_MAX_WEIGHTS_GB, ENGLISH_MARGIN, HEADROOM_MIN_GB,
                                       INDEX_BUDGET_MIN, budget, choose_embedding, choose_llm, daemon_ram_gb,
                                       smaller_fit)

CATALOGUE = load_catalogue()
ENGLISH = {"en"}
SPANISH = {"es", "en"}
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
E5_SMALL = "intfloat/multilingual-e5-small"

LAPTOP_8GB = HardwareProfile(ram_total_gb=8, cores_physical=4, cores_logical=8)
M2_16GB = HardwareProfile(ram_total_gb=16, os="Darwin", arch="arm64",
                          gpus=(Gpu("Apple M2", "apple", 16, unified=True),))
M3_MAX_36GB = HardwareProfile(ram_total_gb=36, os="Darwin", arch="arm64",
                              gpus=(Gpu("Apple M3 Max", "apple", 36, unified=True),))
PC_RTX3060 = HardwareProfile(ram_total_gb=32, cores_physical=8, cores_logical=16,
                             gpus=(Gpu("NVIDIA GeForce RTX 3060", "nvidia", 12.0, 11.3),))
RASPBERRY_PI_4GB = HardwareProfile(ram_total_gb=4, cores_physical=4, cores_logical=4, arch="aarch64")


def llm(profile, installed=(), languages=ENGLISH):
    return choose_llm(profile, CATALOGUE, list(installed), languages)


def test_an_8gb_laptop_without_gpu_gets_a_small_model_on_the_cpu():
    choice = llm(LAPTOP_8GB)
    model = CATALOGUE.llm(choice.model)
    assert choice.model == "gemma3:4b" and choice.fits
    assert model.size_gb <= CPU_MAX_WEIGHTS_GB
    assert choice.ram_gb + daemon_ram_gb(CATALOGUE) <= 8 - HEADROOM_MIN_GB
    assert "runs on the CPU" in choice.reason and "ollama pull gemma3:4b" in choice.reason
    assert choose_embedding(LAPTOP_8GB, CATALOGUE, ENGLISH).model == "BAAI/bge-small-en-v1.5"


def test_a_16gb_m2_runs_an_8b_model_within_metals_share_of_unified_memory():
    choice = llm(M2_16GB)
    assert choice.model == "llama3.1:8b"
    assert "Apple M2: 10.7 of 16 GB unified memory" in choice.reason
    assert smaller_fit("qwen2.5:14b", M2_16GB, CATALOGUE).model == "qwen2.5:7b"  # 11 GB > 10.7 GB for the GPU


def test_a_36gb_m3_max_runs_a_32b_model():
    assert llm(M3_MAX_36GB).model == "qwen2.5:32b"
    assert budget(M3_MAX_36GB, CATALOGUE, 0.0).gpu_gb == pytest.approx(27.0)  # 3/4 on machines of 33 GB and more


def test_a_pc_with_a_12gb_rtx_3060_puts_a_14b_model_in_vram():
    choice = llm(PC_RTX3060)
    assert choice.model == "qwen2.5:14b"  # phi4:14b is as large; the multilingual one wins the tie
    assert choice.ram_gb <= 12 - 0.5 and "runs on the GPU (NVIDIA GeForce RTX 3060" in choice.reason
    assert choose_embedding(PC_RTX3060, CATALOGUE, ENGLISH).model == "nomic-ai/nomic-embed-text-v1.5"


def test_a_4gb_raspberry_pi_gets_a_tiny_model_and_a_fast_embedder():
    choice = llm(RASPBERRY_PI_4GB)
    assert CATALOGUE.llm(choice.model).tier == "tiny" and choice.fits
    assert choice.ram_gb <= 4 - HEADROOM_MIN_GB - daemon_ram_gb(CATALOGUE)
    embedding = CATALOGUE.embedding(choose_embedding(RASPBERRY_PI_4GB, CATALOGUE, ENGLISH).model)
    assert embedding.relative_speed >= 0.4 and embedding.ram_gb <= 0.15 * 4


@pytest.mark.parametrize("profile", [LAPTOP_8GB, M2_16GB, M3_MAX_36GB, PC_RTX3060, RASPBERRY_PI_4GB])
def test_a_spanish_vault_gets_models_that_speak_spanish(profile):
    choice = llm(profile, languages=SPANISH)
    assert CATALOGUE.llm(choice.model).covers({"es"}) and "supports en, es" in choice.reason
    embedding = choose_embedding(profile, CATALOGUE, SPANISH)
    assert CATALOGUE.embedding(embedding.model).multilingual
    assert "not only in English (en, es)" in embedding.reason


def test_a_spanish_vault_picks_the_multilingual_e5_where_bge_small_would_serve_english():
    assert choose_embedding(LAPTOP_8GB, CATALOGUE, SPANISH).model == E5_SMALL
    assert choose_embedding(M3_MAX_36GB, CATALOGUE, SPANISH).model == "BAAI/bge-m3"


def test_an_installed_english_only_model_is_passed_over_for_a_spanish_vault():
    assert llm(PC_RTX3060, installed=["phi4:14b"], languages=SPANISH).model == "qwen2.5:14b"


def test_an_already_installed_model_that_fits_is_preferred():
    choice = llm(PC_RTX3060, installed=["smollm2:135m", "llama3.1:latest", "llama3.2:3b"])
    assert choice.model == "llama3.1:latest"  # the name Ollama has, so it needs no pull
    assert "already in Ollama" in choice.reason and "`ollama pull qwen2.5:14b`" in choice.reason
    assert llm(PC_RTX3060, installed=["qwen2.5:14b"]).reason.count("ollama pull") == 0


def test_an_installed_model_that_does_not_fit_is_not_chosen():
    assert llm(LAPTOP_8GB, installed=["qwen2.5:32b", "llama3.3:70b"]).model == "gemma3:4b"


def test_embeddings_already_on_disk_are_preferred_and_the_better_one_is_named():
    bundled = {MINILM, E5_SMALL}
    english = choose_embedding(LAPTOP_8GB, CATALOGUE, ENGLISH, available=bundled)
    assert english.model == MINILM and "BAAI/bge-small-en-v1.5 would retrieve better" in english.reason
    assert choose_embedding(LAPTOP_8GB, CATALOGUE, SPANISH, available=bundled).model == E5_SMALL


def test_nothing_fits_a_tiny_machine_and_says_so():
    choice = llm(HardwareProfile(ram_total_gb=2))
    assert not choice.fits and choice.model == "qwen2.5:0.5b" and "no catalogued model fits" in choice.reason


def test_a_smaller_fit_stays_in_the_family_and_fits():
    choice = smaller_fit("llama3.3:70b", LAPTOP_8GB, CATALOGUE)
    assert choice.model == "llama3.2:3b" and choice.ram_gb < CATALOGUE.llm("llama3.3:70b").ram_gb(8192)
    assert smaller_fit("some-model-of-my-own:7b", RASPBERRY_PI_4GB, CATALOGUE).model == "qwen2.5:0.5b"
    assert smaller_fit("qwen2.5:0.5b", HardwareProfile(ram_total_gb=2), CATALOGUE) is None


def test_a_longer_context_needs_more_memory():
    short = choose_llm(PC_RTX3060, CATALOGUE, [], ENGLISH, context_tokens=2048)
    long = choose_llm(PC_RTX3060, CATALOGUE, [], ENGLISH, context_tokens=32768)
    assert CATALOGUE.llm(long.model).parameters_b < CATALOGUE.llm(short.model).parameters_b


def test_the_catalogue_holds_the_models_the_issue_names_with_their_sources():
    embeddings = {model.name for model in CATALOGUE.embeddings}
    assert {"all-MiniLM-L6-v2", "bge-small-en-v1.5", "multilingual-e5-small", "paraphrase-multilingual-MiniLM-L12-v2",
            "bge-m3", "nomic-embed-text"} <= embeddings
    assert CATALOGUE.default_embedding.id == MINILM
    tiers = {model.tag: model.tier for model in CATALOGUE.llms}
    assert {tag for tag, tier in tiers.items() if tier == "tiny"} == {"qwen2.5:0.5b", "llama3.2:1b", "gemma3:1b",
                                                                     "qwen2.5:1.5b"}
    assert {"llama3.2:3b", "qwen2.5:3b", "phi4-mini:3.8b", "qwen2.5:7b", "llama3.1:8b", "mistral:7b", "gemma3:4b",
            "qwen2.5:14b", "phi4:14b", "gemma3:27b", "qwen2.5:32b", "llama3.3:70b"} <= set(tiers)
    assert all(model.retrieval_source and model.retrieval_benchmark for model in CATALOGUE.embeddings)
    assert len({model.rank for model in CATALOGUE.embeddings}) == len(CATALOGUE.embeddings)
    assert CATALOGUE.llm("phi4-mini").tag == "phi4-mini:3.8b" and CATALOGUE.llm("llama3.2").tag == "llama3.2:3b"
    assert CATALOGUE.llm("qwen2.5:72b") is None
    assert CATALOGUE.llm("llama3.1:8b").ram_gb(8192) == pytest.approx(4.9 + 1.0 + 0.5)


def test_a_mistake_in_the_catalogue_names_the_entry(tmp_path):
    broken = tmp_path / "models.toml"
    broken.write_text(MODELS_TOML.read_text().replace('quantization = "Q4_0"', 'quantisation = "Q4_0"'))
    with pytest.raises(ConfigError, match=r"mistral:7b: unknown keys \['quantisation'\]; missing keys \['quantiz"):
        load_catalogue(broken)


def with_figures(scifact: dict[str, float], texts_per_s: dict[str, float]):
    """The catalogue with other measured figures for the two models that need no download."""
    models = tuple(replace(model, measured_scifact=scifact[model.id], measured_texts_per_s=texts_per_s[model.id])
                   if model.id in scifact else model for model in CATALOGUE.embeddings)
    return replace(CATALOGUE, embeddings=models)


def test_an_english_vault_keeps_minilm_unless_e5_measures_better_by_the_margin_at_an_affordable_cost():
    bundled = {MINILM, E5_SMALL}
    close = with_figures({MINILM: 0.900, E5_SMALL: 0.900 + ENGLISH_MARGIN}, {MINILM: 8.0, E5_SMALL: 2.0})
    kept = choose_embedding(LAPTOP_8GB, close, ENGLISH, available=bundled, notes=100)
    assert kept.model == MINILM and f"a gain of +{ENGLISH_MARGIN:.3f} is not over the {ENGLISH_MARGIN}" in kept.reason
    better = with_figures({MINILM: 0.900, E5_SMALL: 0.950}, {MINILM: 8.0, E5_SMALL: 2.0})
    small = choose_embedding(LAPTOP_8GB, better, ENGLISH, available=bundled, notes=100)
    assert small.model == E5_SMALL and "gains +0.050" in small.reason and "0.950 for multilingual-e5-small" in small.reason
    affordable = int(INDEX_BUDGET_MIN * 60 * 2.0 / CHUNKS_PER_NOTE)  # notes e5 indexes within the budget
    assert choose_embedding(LAPTOP_8GB, better, ENGLISH, available=bundled, notes=affordable).model == E5_SMALL
    large = choose_embedding(LAPTOP_8GB, better, ENGLISH, available=bundled, notes=affordable + 100)
    assert large.model == MINILM and f"{affordable + 100} notes on a CPU, over {INDEX_BUDGET_MIN} min" in large.reason
    assert choose_embedding(PC_RTX3060, better, ENGLISH, available=bundled, notes=affordable + 100).model == E5_SMALL


def test_the_measured_figures_give_the_reason_and_an_index_of_either_model_is_kept():
    bundled = {MINILM, E5_SMALL}
    english = choose_embedding(LAPTOP_8GB, CATALOGUE, ENGLISH, available=bundled, notes=500)
    assert "Measured: hybrid nDCG@10 on a SciFact train subset" in english.reason
    assert "bench/embed_bench.py" in english.reason
    spanish = choose_embedding(LAPTOP_8GB, CATALOGUE, SPANISH, available=bundled, notes=500)
    assert spanish.model == E5_SMALL and "on an 8-language test vault" in spanish.reason
    assert "bench/multilingual_bench.py" in spanish.reason
    for model in (MINILM, E5_SMALL):  # what model_choice asks to keep an index's model (no rebuild)
        assert choose_embedding(LAPTOP_8GB, CATALOGUE, ENGLISH, available={model}, notes=50_000).model == model
    assert all(CATALOGUE.embedding(model).measured for model in bundled)
