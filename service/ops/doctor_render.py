"""A `vaultrag doctor` report as Markdown (the plan's table, the total, the findings) or as JSON-ready data."""

from __future__ import annotations

from dataclasses import asdict

from vaultrag.service.ops.doctor_report import Report


def render(report: Report) -> str:
    """The report as Markdown: the plan's table, the total against the RAM, then the findings."""
    hw = report.hardware
    lines = ["## vaultrag doctor: the plan for this machine", "",
             "| Component | Tool | Why | Estimated RAM |", "| --- | --- | --- | --- |"]
    lines += [f"| {row.component} | {_cell(row.tool)} | {_cell(row.why)} | "
              f"{'-' if row.ram_gb is None else f'{row.ram_gb:.1f} GB'} |" for row in report.rows]
    gpu = f" and {report.gpu_gb:.1f} GB of GPU memory" if report.gpu_gb else ""
    free = f"{hw.ram_available_gb:.1f} GB of {hw.ram_total_gb:.1f} GB" if hw.ram_available_gb is not None \
        else f"{hw.ram_total_gb:.1f} GB"
    gpus = ", ".join(f"{gpu.name} ({gpu.memory_total_gb:.1f} GB{' unified' if gpu.unified else ''})"
                     for gpu in hw.gpus) or "no GPU"
    lines += ["", f"**Total: about {report.ram_gb:.1f} GB of RAM{gpu}**; RAM available now: {free}.",
              f"Machine: {hw.os} {hw.arch}, {hw.cores_physical} cores ({hw.cores_logical} threads), {gpus}.", ""]
    lines += [f"- {line}" for line in report.auto] + ([""] if report.auto else [])
    for finding in report.findings:
        lines.append(f"- **{finding.level}**: {finding.problem}. Fix: {finding.fix}.")
    lines.append(("" if not report.findings else "\n")
                 + ("Ready: the plan can run." if report.ok else "Blocked: fix the errors above, then run "
                                                                 "`vaultrag doctor` again."))
    return "\n".join(lines)


def as_data(report: Report) -> dict:
    """The report as JSON-ready data, with the same content as `render`."""
    return {"ok": report.ok,
            "plan": [asdict(row) | {"ram_gb": _round(row.ram_gb)} for row in report.rows],
            "total": {"ram_gb": _round(report.ram_gb), "gpu_gb": _round(report.gpu_gb),
                      "ram_available_gb": _round(report.hardware.ram_available_gb),
                      "ram_total_gb": _round(report.hardware.ram_total_gb)},
            "hardware": asdict(report.hardware), "llm_server": asdict(report.llm_server),
            "findings": [asdict(finding) for finding in report.findings], "auto": report.auto}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
