"""Which models suit this machine: pure functions of a HardwareProfile, the Catalogue and what the user has.

The rules, in the order they apply:

1. Memory. The system keeps max(2 GB, 25 % of RAM); vaultrag keeps its own share (`daemon_ram_gb`: the daemon,
   the embedding model, the index). An LLM runs on the GPU when it fits there: an NVIDIA card's memory less
   0.5 GB, or on Apple Silicon Metal's share of unified memory (runtime.apple_gpu_share in models.toml); else on
   the CPU when it fits the RAM left and its weights are at most 5 GB (token generation on a CPU is limited by
   memory bandwidth: tens of GB/s divided by the weights gives about 5-10 tokens/s at 5 GB, too slow beyond).
2. Languages. A vault whose main languages include any but English gets models that support them all.
3. Quality. Among the LLMs that fit, the most parameters wins (ties: the multilingual one, then the smaller);
   among embedding models, the best `rank` in models.toml.
4. What is already there. A model already pulled into Ollama (or an embedding model already on disk) that fits
   wins over one that needs a download; the reason names the better one and how to get it.

Embedding models stay in RAM (at most 15 % of it) and, without a GPU, at least 0.4x as fast as the bundled
all-MiniLM-L6-v2, so that indexing a vault on a CPU takes at most about 2.5x as long as with the default. Models
vaultrag's benches measured on one machine (models.toml's `measured_*`: all-MiniLM-L6-v2 and multilingual-e5-small,
the two that need no download) are judged by those figures instead: a vault not only in English takes the
multilingual one (the English model finds far fewer of the fixture's notes in other languages); an English vault
keeps the default unless the other retrieves better on SciFact train by more than ENGLISH_MARGIN and, on a CPU,
indexes the vault's notes within INDEX_BUDGET_MIN at the measured speed.
"""

from __future__ import annotations

from dataclasses import dataclass

from vaultrag.config.catalogue import Catalogue, EmbeddingModel, LLMModel
from vaultrag.config.hardware import HardwareProfile

HEADROOM_MIN_GB = 2.0
HEADROOM_SHARE = 0.25
VRAM_RESERVE_GB = 0.5  # the display and the CUDA context on an NVIDIA card (approximate)
CPU_MAX_WEIGHTS_GB = 5.0
EMBEDDING_RAM_SHARE = 0.15
EMBEDDING_CPU_MIN_SPEED = 0.4
ENGLISH_MARGIN = 0.01  # hybrid nDCG@10 on the SciFact train subset; 100 queries measure about +-0.01 apart
INDEX_BUDGET_MIN = 30  # a first index of an English vault with the slower model, at the measured texts/s
CHUNKS_PER_NOTE = 4.3  # bench/query_latency_bench.py: 858 chunks for 200 generated notes
CONTEXT_TOKENS = 8192  # llm.context_tokens' default


@dataclass(frozen=True)
class Choice:
    """A model and why. `fits` is False when nothing fits and this is only the smallest suitable model."""

    model: str
    reason: str
    ram_gb: float
    fits: bool = True


@dataclass(frozen=True)
class Budget:
    """Memory an LLM may take on the GPU and in RAM, after the system's headroom and vaultrag's own share."""

    gpu_gb: float  # 0 without a usable GPU
    gpu: str  # which GPU, for messages
    ram_gb: float
    headroom_gb: float
    reserved_gb: float


def daemon_ram_gb(catalogue: Catalogue, embedding: EmbeddingModel | None = None, index_gb: float = 0.0) -> float:
    """RAM of the vaultrag daemon: its runtime, the embedding model (default: the bundled one) and the index."""
    return catalogue.runtime.vaultrag_base_gb + (embedding or catalogue.default_embedding).ram_gb + index_gb


def budget(profile: HardwareProfile, catalogue: Catalogue, reserved_gb: float) -> Budget:
    """The room for an LLM on this machine once the system's headroom and `reserved_gb` for vaultrag are kept."""
    headroom = max(HEADROOM_MIN_GB, HEADROOM_SHARE * profile.ram_total_gb)
    ram = max(profile.ram_total_gb - headroom - reserved_gb, 0.0)
    if profile.vram_gb > 0:
        names = ", ".join(gpu.name for gpu in profile.gpus if not gpu.unified)
        return Budget(max(profile.vram_gb - VRAM_RESERVE_GB, 0.0), f"{names}, {profile.vram_gb:.1f} GB",
                      ram, headroom, reserved_gb)
    if profile.apple_silicon:
        chip = next(gpu for gpu in profile.gpus if gpu.unified)
        share = catalogue.runtime.apple_gpu_gb(chip.memory_total_gb)
        return Budget(min(share, ram), f"{chip.name}: {share:.1f} of {chip.memory_total_gb:.0f} GB unified memory",
                      ram, headroom, reserved_gb)
    return Budget(0.0, "", ram, headroom, reserved_gb)


def placement(ram_gb: float, room: Budget) -> str | None:
    """Where a model needing `ram_gb` runs: "gpu", "cpu", or None when it fits neither."""
    if ram_gb <= room.gpu_gb:
        return "gpu"
    return "cpu" if ram_gb <= room.ram_gb else None


def describe(where: str, room: Budget) -> str:
    """`placement`'s answer in words."""
    if where == "gpu":
        return f"runs on the GPU ({room.gpu})"
    return (f"runs on the CPU, in RAM ({room.ram_gb:.1f} GB left after {room.headroom_gb:.1f} GB for the system "
            f"and {room.reserved_gb:.1f} GB for vaultrag)")


def choose_llm(profile: HardwareProfile, catalogue: Catalogue, installed: list[str], languages: set[str], *,
               context_tokens: int = CONTEXT_TOKENS, reserved_gb: float | None = None) -> Choice:
    """The best catalogued Ollama model for this machine; one of `installed` (Ollama names) when one fits."""
    needs = _needs(languages)
    room = budget(profile, catalogue, daemon_ram_gb(catalogue) if reserved_gb is None else reserved_gb)
    suitable = [model for model in catalogue.llms if model.covers(needs)]
    fitting = {model.tag: where for model in suitable if (where := _runs(model, room, context_tokens))}
    if not fitting:
        return _nothing_fits(min(suitable, key=lambda m: m.ram_gb(context_tokens)), room, context_tokens)
    best = max((model for model in suitable if model.tag in fitting), key=_quality)
    have = [(name, model) for name in installed if (model := catalogue.llm(name)) and model.tag in fitting]
    chosen_name, chosen = max(have, key=lambda pair: _quality(pair[1])) if have else (best.tag, best)
    ram = chosen.ram_gb(context_tokens)
    why = (f"{describe(fitting[chosen.tag], room)}" + (", quick enough there" if fitting[chosen.tag] == "cpu" else "")
           + f", with about {ram:.1f} GB at {context_tokens} tokens of context"
           + (f"; it supports {', '.join(sorted(needs))}" if needs != {"en"} else ""))
    if not have:
        return Choice(best.tag, f"{best.tag} ({best.parameters_b:g}B, {best.quantization}) is the largest catalogued "
                                f"model that fits: it {why}; get it with `ollama pull {best.tag}`", ram)
    better = f"; the best fit is {best.tag}: `ollama pull {best.tag}`" if best is not chosen else ""
    return Choice(chosen_name, f"{chosen_name} is already in Ollama and fits: it {why}{better}", ram)


def smaller_fit(model: str, profile: HardwareProfile, catalogue: Catalogue, *,
                context_tokens: int = CONTEXT_TOKENS, reserved_gb: float | None = None) -> Choice | None:
    """A smaller quantized model that fits, for a `model` that does not: its own family first, then the best
    one that speaks the same languages, then the best one; None when nothing smaller fits."""
    current = catalogue.llm(model)
    limit = current.ram_gb(context_tokens) if current else float("inf")
    room = budget(profile, catalogue, daemon_ram_gb(catalogue) if reserved_gb is None else reserved_gb)
    fitting = [(m, where) for m in catalogue.llms
               if m.ram_gb(context_tokens) < limit and (where := _runs(m, room, context_tokens))]
    if not fitting:
        return None

    def preference(pair: tuple[LLMModel, str]) -> tuple:
        candidate = pair[0]
        if current is None:
            return False, False, _quality(candidate)
        return candidate.family == current.family, candidate.covers(set(current.languages)), _quality(candidate)

    pick, where = max(fitting, key=preference)
    ram = pick.ram_gb(context_tokens)
    return Choice(pick.tag, f"{pick.tag} ({pick.parameters_b:g}B, {pick.quantization}) {describe(where, room)}: "
                            f"about {ram:.1f} GB at {context_tokens} tokens of context", ram)


def choose_embedding(profile: HardwareProfile, catalogue: Catalogue, languages: set[str], *,
                     available: set[str] | None = None, notes: int = 0) -> Choice:
    """The best embedding model for this machine and these languages; one of `available` (ids or names of
    models loadable without a download) when one qualifies. `notes`: how many the vault holds (0: unknown)."""
    needs = _needs(languages)
    multilingual = bool(needs - {"en"})
    cap_gb = EMBEDDING_RAM_SHARE * profile.ram_total_gb
    on_cpu = profile.accelerator == "cpu"
    suitable = [model for model in catalogue.embeddings if model.multilingual or not multilingual]
    fitting = sorted((model for model in suitable if model.ram_gb <= cap_gb and (
        not on_cpu or model.measured or model.relative_speed >= EMBEDDING_CPU_MIN_SPEED)), key=lambda m: m.rank)
    if not fitting:
        smallest = min(suitable, key=lambda m: m.ram_gb)
        return Choice(smallest.id, f"no catalogued embedding model fits {cap_gb:.1f} GB (15 % of RAM); "
                                   f"{smallest.id} is the smallest that suits, at about {smallest.ram_gb:.1f} GB",
                      smallest.ram_gb, fits=False)
    best = fitting[0]
    have = [model for model in fitting if available is not None and {model.id, model.name} & available]
    chosen = have[0] if have else best
    measured = ""
    if have and chosen.measured and not multilingual:
        chosen, measured = _by_the_numbers(chosen, have, notes, on_cpu)
    elif chosen.measured and catalogue.default_embedding.measured and chosen is not catalogue.default_embedding:
        measured = _fixture_figures(chosen, catalogue.default_embedding, notes)
    limits = f"at most {cap_gb:.1f} GB, 15 % of RAM" + (
        f", and on the CPU at least {EMBEDDING_CPU_MIN_SPEED:g}x all-MiniLM-L6-v2's speed or measured" if on_cpu else "")
    language = (f"the vault is not only in English ({', '.join(sorted(needs))}), so a multilingual model: "
                if multilingual else "")
    score = f"{chosen.retrieval_benchmark} {chosen.retrieval_score:g} ({chosen.retrieval_source})"
    if chosen is best:
        status = "; already on this machine" if have else ("" if chosen.bundled_by else "; downloaded on first use")
        reason = f"{language}{chosen.id} retrieves best of the models that fit ({limits}){status}; {score}"
    else:
        reason = (f"{language}{chosen.id} is already on this machine and fits ({limits}); {score}. {best.id} "
                  f"would retrieve better after a download ({best.retrieval_benchmark} {best.retrieval_score:g})")
    return Choice(chosen.id, reason + measured, chosen.ram_gb)


def index_minutes(model: EmbeddingModel, notes: int) -> float:
    """A first index of `notes` notes with `model` at its measured speed, in minutes: an upper bound, as SciFact's
    abstracts, on which the speed is measured, are longer than most chunks."""
    return notes * CHUNKS_PER_NOTE / model.measured_texts_per_s / 60


def _by_the_numbers(first: EmbeddingModel, have: list[EmbeddingModel], notes: int,
                    on_cpu: bool) -> tuple[EmbeddingModel, str]:
    """For an English vault: `first` (the best-ranked model on disk, the default) or the measured model that
    replaces it, and why, with the figures."""
    rival = next((model for model in have if model.measured and model is not first), None)
    if rival is None:
        return first, ""
    gain = round(rival.measured_scifact - first.measured_scifact, 3)  # the figures have three decimals
    minutes = index_minutes(rival, notes)
    figures = (f"hybrid nDCG@10 on a SciFact train subset {rival.measured_scifact:.3f} for {rival.name} against "
               f"{first.measured_scifact:.3f} for {first.name}, {rival.measured_texts_per_s:g} against "
               f"{first.measured_texts_per_s:g} texts/s on a CPU ({first.measured_source})")
    if gain <= ENGLISH_MARGIN:
        return first, f". Measured: {figures}; a gain of {gain:+.3f} is not over the {ENGLISH_MARGIN} it must be"
    if on_cpu and minutes > INDEX_BUDGET_MIN:
        return first, (f". Measured: {figures}; {rival.name} would take up to about {minutes:.0f} min to index "
                       f"{notes} notes on a CPU, over {INDEX_BUDGET_MIN} min")
    return rival, (f". Measured: {figures}; {rival.name} gains {gain:+.3f}, over {ENGLISH_MARGIN}, and indexes "
                   f"{notes} notes in up to about {minutes:.0f} min on a CPU")


def _fixture_figures(chosen: EmbeddingModel, default: EmbeddingModel, notes: int) -> str:
    """The measured case for a multilingual model over the English default."""
    return (f". Measured: hybrid recall@5 {chosen.measured_fixture:.2f} for {chosen.name} against "
            f"{default.measured_fixture:.2f} for {default.name} on an 8-language test vault, at "
            f"{chosen.measured_texts_per_s / default.measured_texts_per_s:.2f}x its indexing speed (up to about "
            f"{index_minutes(chosen, notes):.0f} min for {notes} notes on a CPU; {chosen.measured_source})")


def _needs(languages: set[str]) -> set[str]:
    """The vault's main languages as lower-case codes; none detected means English."""
    return {language.strip().lower() for language in languages if language.strip()} or {"en"}


def _runs(model: LLMModel, room: Budget, context_tokens: int) -> str | None:
    """`placement` for selection: on the CPU only models whose weights keep answers quick."""
    where = placement(model.ram_gb(context_tokens), room)
    return None if where == "cpu" and model.size_gb > CPU_MAX_WEIGHTS_GB else where


def _quality(model: LLMModel) -> tuple:
    return model.parameters_b, "multi" in model.languages, -model.size_gb


def _nothing_fits(smallest: LLMModel, room: Budget, context_tokens: int) -> Choice:
    ram = smallest.ram_gb(context_tokens)
    space = max(room.gpu_gb, room.ram_gb)
    return Choice(smallest.tag, f"no catalogued model fits: the smallest suitable one, {smallest.tag}, needs about "
                                f"{ram:.1f} GB at {context_tokens} tokens of context and {space:.1f} GB are free "
                                "for it; lower llm.context_tokens or free memory", ram, fits=False)
