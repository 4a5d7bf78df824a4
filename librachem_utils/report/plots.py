"""Every figure and the results table from saved results: ``save_all(run_dir, out_dir)``.

The figure functions live with their group: ``data_figures`` (steps 01-03), ``training_figures``
(step 04) and ``results_figures`` (step 05); each takes results (paths or loaded data) and returns a
``matplotlib.figure.Figure`` in the shared style (``style``). ``save_all`` writes every figure whose
inputs exist (see ``FIGURES``) as PNG and PDF with reproducible bytes, the results table as
``results_table.md`` / ``results_table.tex`` and the dual-use cell's as ``dual_use_table.md`` / ``.tex``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from matplotlib.figure import Figure

from librachem_utils.core import files, tables
from librachem_utils.eval import dual_use
from librachem_utils.eval import metrics as metrics_mod
from librachem_utils.report.data_figures import balance_figure, diversity_figure, lengths_figure
from librachem_utils.report.results_figures import (
    alignment_tax_figure,
    dilemma_figure,
    dual_use_figure,
    judges_figure,
    main_figure,
    overrefusal_figure,
)
from librachem_utils.report.training_figures import read_logs, training_figure, training_series

DPI = 150
#: file name -> one-line caption, in the order a reader meets them
FIGURES = {
    "fig_balance": "Requests per intent and label: the seed and the dataset in each mode.",
    "fig_lengths": "Lengths of prompts and of chosen and rejected responses, by label.",
    "fig_diversity": "Wording diversity of the dataset before and after rephrasing and duplicate removal.",
    "fig_training": "Training curves per arm: losses, and DPO reward margin and accuracy.",
    "fig_main": "Safety, utility and overall accuracy per model with 95% bootstrap CIs, TEXT and SMILES.",
    "fig_dilemma": "The dual-use dilemma: safety against utility per model, with the Pareto frontier.",
    "fig_dual_use": "The dual-use cell: per model, the share of legitimate synthesis requests answered and of "
                    "illegitimate ones refused (95% bootstrap CIs, goals dashed), with Youden's J.",
    "fig_overrefusal": "Over-refusal by intent: the share of legitimate requests each model refuses.",
    "fig_judges": "Agreement between judges: confusion matrices and Cohen's kappa.",
    "fig_alignment_tax": "The alignment tax: checkable legitimate requests answered, and answered correctly, per "
                         "model next to the base model's, with the paired difference and its Holm-adjusted McNemar p.",
}
_PNG_METADATA = {"Software": None}
_PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None}


def save_figure(fig: Figure, out_dir: str | Path, name: str, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Write ``fig`` as ``<out_dir>/<name>.<format>`` for each format, atomically and reproducibly."""
    written = []
    for fmt in formats:
        path = Path(out_dir) / f"{name}.{fmt}"
        with files.atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=DPI, metadata=_PNG_METADATA if fmt == "png" else _PDF_METADATA)
        written.append(path)
    return written


def save_all(run_dir: str | Path, out_dir: str | Path, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Write every figure whose inputs exist under ``run_dir``, and the results tables; returns the paths.

    A figure whose input is absent (no metrics, no logs, one judge only...) is skipped with a printed note.
    """
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    summary_file, diversity_file = run_dir / "results" / "dataset_summary.json", run_dir / "results" / "diversity.json"
    metrics_file = run_dir / "results" / "metrics.json"
    logs = read_logs(run_dir / "logs") if (run_dir / "logs").is_dir() else {}
    metrics = metrics_mod.read_metrics(metrics_file) if metrics_file.is_file() else None
    summary = files.read_json(summary_file) if summary_file.is_file() else None

    def results_gap(need: str = "") -> Optional[str]:
        if metrics is None:
            return f"no {metrics_file}"
        if need == "test" and "test" not in metrics["splits"]:
            return "no test split in the metrics"
        if need == "judges" and not metrics["judge_agreement"]:
            return "only one judge in the metrics"
        if need == "alignment_tax" and "alignment_tax" not in metrics:
            return f"{metrics_file} has no alignment_tax: it was saved before it was computed; rerun step 05"
        if need == "alignment_tax" and not metrics["alignment_tax"]:
            return "no model to compare with the base model in the metrics"
        if need == "dual_use" and "dual_use" not in metrics:
            return f"{metrics_file} has no dual_use: it was saved before it was computed; rerun step 05"
        if need == "dual_use" and not metrics["dual_use"]:
            return "no synthesis request in the metrics"
        return None

    plan = {  # name -> (make, why it is skipped, or None)
        "fig_balance": (lambda: balance_figure(summary), None if summary else f"no {summary_file}"),
        "fig_lengths": (lambda: lengths_figure(summary), None if summary else f"no {summary_file}"),
        "fig_diversity": (lambda: diversity_figure(diversity_file),
                          None if diversity_file.is_file() else f"no {diversity_file}"),
        "fig_training": (lambda: training_figure(logs),
                         None if training_series(logs) else f"no logged loss or DPO reward in {run_dir / 'logs'}"),
        "fig_main": (lambda: main_figure(metrics), results_gap()),
        "fig_dilemma": (lambda: dilemma_figure(metrics), results_gap("test")),
        "fig_dual_use": (lambda: dual_use_figure(metrics), results_gap("dual_use")),
        "fig_overrefusal": (lambda: overrefusal_figure(metrics), results_gap("test")),
        "fig_judges": (lambda: judges_figure(metrics), results_gap("judges")),
        "fig_alignment_tax": (lambda: alignment_tax_figure(metrics), results_gap("alignment_tax")),
    }
    written = []
    for name, (make, missing) in plan.items():
        if missing:
            print(f"[figures] {name}: skipped ({missing})")
            continue
        written += save_figure(make(), out_dir, name, formats)
    results_tables = {"results_table": metrics_mod.results_table(metrics)} if metrics else {}
    if metrics and metrics.get("dual_use"):  # none in metrics saved before the dual-use cell was computed
        results_tables["dual_use_table"] = dual_use.dual_use_table(metrics)
    for name, table in results_tables.items():
        written.append(files.write_text(out_dir / f"{name}.md", tables.to_markdown(table)))
        written.append(files.write_text(out_dir / f"{name}.tex", tables.to_latex(table)))
    return written
