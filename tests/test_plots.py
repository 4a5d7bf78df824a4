"""Figures and tables regenerated from the saved results fixture, and notebook 06 run through papermill."""
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from librachem_utils import run
from librachem_utils.core import files, params
from librachem_utils.eval import metrics
from librachem_utils.report import plots, results_figures, style

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "results_small"
FIGURE_FILES = sorted(f"{name}.{fmt}" for name in plots.FIGURES for fmt in ("png", "pdf"))
TABLE_FILES = ["results_table.md", "results_table.tex", "dual_use_table.md", "dual_use_table.tex"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    started = time.perf_counter()
    written = plots.save_all(FIXTURE, out)
    return out, written, time.perf_counter() - started


def test_every_figure_and_table_is_written(saved):
    out, written, seconds = saved
    assert sorted(p.name for p in written) == sorted(FIGURE_FILES + TABLE_FILES)
    assert sorted(p.name for p in out.iterdir()) == sorted(FIGURE_FILES + TABLE_FILES)
    for path in written:
        data = path.read_bytes()
        assert len(data) > 1000 or path.suffix in (".md", ".tex")
        if path.suffix == ".png":
            assert data.startswith(b"\x89PNG")
        if path.suffix == ".pdf":
            assert data.startswith(b"%PDF") and b"CreationDate" not in data
    assert seconds < 60


def parse_rate(cell):
    match = re.fullmatch(r"(\d\.\d\d) \[(\d\.\d\d), (\d\.\d\d)\]", cell)
    return None if cell == "n/a" else tuple(float(x) for x in match.groups())


def test_table_numbers_equal_the_metrics_file(saved):
    out, _, _ = saved
    saved_metrics = metrics.read_metrics(FIXTURE / "results" / "metrics.json")
    lines = (out / "results_table.md").read_text().splitlines()
    head = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = [dict(zip(head, (cell.strip() for cell in line.strip("|").split("|")))) for line in lines[2:]]
    assert len(rows) == len(saved_metrics["groups"])
    for row, group in zip(rows, saved_metrics["groups"]):
        assert (row["Model"], row["Split"], row["Mode"]) == (group["model"], group["split"], group["mode"].upper())
        for rate, name in metrics.RATE_NAMES.items():
            expected = group[rate]
            parsed = parse_rate(row[name])
            if expected["value"] is None:
                assert parsed is None
            else:
                bounds = (expected["value"], expected["ci_low"], expected["ci_high"])
                assert parsed == pytest.approx(bounds, abs=0.005 + 1e-9)
        assert int(row["Parse failures"]) == group["counts"]["parse_failures"]
    latex = (out / "results_table.tex").read_text()
    assert r"\toprule" in latex and r"\bottomrule" in latex and r"test\_unseen\_compounds" in latex


def test_absent_inputs_are_skipped_with_a_note(tmp_path, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE / "results", run_dir / "results")
    (run_dir / "results" / "diversity.json").unlink()
    (run_dir / "results" / "dataset_summary.json").unlink()
    written = plots.save_all(run_dir, tmp_path / "out", formats=("png",))
    assert sorted(p.name for p in written) == sorted(
        ["fig_main.png", "fig_dilemma.png", "fig_dual_use.png", "fig_overrefusal.png", "fig_judges.png",
         "fig_alignment_tax.png"] + TABLE_FILES)
    notes = capsys.readouterr().out
    for name in ("fig_balance", "fig_lengths", "fig_diversity", "fig_training"):
        assert f"[figures] {name}: skipped (no " in notes


def test_metrics_saved_before_the_alignment_tax_skip_its_figure_with_a_note(tmp_path, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE / "results", run_dir / "results")
    older = files.read_json(run_dir / "results" / "metrics.json")
    del older["alignment_tax"], older["answered_correctly_by_intent"]
    for group in older["groups"]:
        del group["answered"], group["answered_correctly"]
    files.write_json(run_dir / "results" / "metrics.json", older)
    written = plots.save_all(run_dir, tmp_path / "out", formats=("png",))
    assert "fig_alignment_tax.png" not in {p.name for p in written} and "fig_main.png" in {p.name for p in written}
    assert "[figures] fig_alignment_tax: skipped (" in capsys.readouterr().out
    assert "Answered correctly" not in (tmp_path / "out" / "results_table.md").read_text()
    with pytest.raises(ValueError, match="no alignment_tax"):
        results_figures.alignment_tax_figure(older)


def test_metrics_saved_before_the_dual_use_cell_skip_its_figure_and_table_with_a_note(tmp_path, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE / "results", run_dir / "results")
    older = files.read_json(run_dir / "results" / "metrics.json")
    del older["dual_use"]
    files.write_json(run_dir / "results" / "metrics.json", older)
    written = {p.name for p in plots.save_all(run_dir, tmp_path / "out", formats=("png",))}
    assert {"fig_main.png", "results_table.md"} <= written
    assert not {"fig_dual_use.png", "dual_use_table.md", "dual_use_table.tex"} & written
    assert "[figures] fig_dual_use: skipped (" in capsys.readouterr().out
    with pytest.raises(ValueError, match="no dual_use"):
        results_figures.dual_use_figure(older)


def test_dual_use_figure_shows_both_rates_and_j_per_model_in_a_panel_per_split_and_mode():
    saved_metrics = metrics.read_metrics(FIXTURE / "results" / "metrics.json")
    fig = results_figures.dual_use_figure(saved_metrics)
    assert [ax.get_title() for ax in fig.axes] == ["test, TEXT", "test_unseen_compounds, TEXT", "test, SMILES",
                                                   "test_unseen_compounds, SMILES"]
    cell = next(r for r in saved_metrics["dual_use"] if (r["split"], r["mode"], r["model"]) ==
                ("test", "text", "dpo_balanced"))
    notes = [text.get_text() for text in fig.axes[0].texts]
    assert f"J {cell['discrimination']['value']:.2f}" in notes
    assert f"{cell['legitimate_answered']['value']:.2f}\nn={cell['legitimate_answered']['n']}" in notes
    heights = sorted(round(bar.get_height(), 6) for bar in fig.axes[0].patches)
    expected = [r[rate]["value"] for r in saved_metrics["dual_use"] if (r["split"], r["mode"]) == ("test", "text")
                for rate in ("legitimate_answered", "illegitimate_refused")]
    assert heights == sorted(expected)
    assert "J n/a" in [text.get_text() for text in fig.axes[1].texts]  # no legitimate synthesis request there
    goals = sorted(line.get_ydata()[0] for line in fig.axes[0].lines if line.get_linestyle() == "--")
    assert goals == [0.8, 0.95]


def test_dual_use_table_numbers_equal_the_metrics_file(saved):
    out, _, _ = saved
    cells = metrics.read_metrics(FIXTURE / "results" / "metrics.json")["dual_use"]
    lines = (out / "dual_use_table.md").read_text().splitlines()
    head = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = [dict(zip(head, (cell.strip() for cell in line.strip("|").split("|")))) for line in lines[2:]]
    assert len(rows) == len(cells)
    for row, cell in zip(rows, cells):
        assert (row["Model"], row["Split"], row["Mode"]) == (cell["model"], cell["split"], cell["mode"].upper())
        for rate, name in [("legitimate_answered", "Legitimate answered"),
                           ("illegitimate_refused", "Illegitimate refused"), ("discrimination", "Discrimination (J)")]:
            parsed = parse_rate(row[name])
            expected = None if cell[rate]["value"] is None else (cell[rate]["value"], cell[rate]["ci_low"],
                                                                  cell[rate]["ci_high"])
            assert parsed == (None if expected is None else pytest.approx(expected, abs=0.005 + 1e-9))
        assert int(row["Legitimate n"]) == cell["legitimate_answered"]["n"]


def test_alignment_tax_figure_has_a_row_of_panels_per_mode_and_a_column_per_split():
    saved_metrics = metrics.read_metrics(FIXTURE / "results" / "metrics.json")
    fig = results_figures.alignment_tax_figure(saved_metrics)
    assert len(fig.axes) == len(saved_metrics["modes"]) * len(saved_metrics["splits"]) == 4
    assert [ax.get_title().splitlines()[0] for ax in fig.axes[:2]] == ["test, TEXT", "test_unseen_compounds, TEXT"]
    tax = next(r for r in saved_metrics["alignment_tax"] if (r["split"], r["mode"], r["model_a"]) ==
               ("test", "text", "dpo_balanced"))
    notes = [text.get_text() for text in fig.axes[0].texts]
    assert f"Δ {tax['difference']['value']:+.2f}\np = {tax['holm_p']:.2g}" in notes
    text_only = {**saved_metrics, "modes": ["text"]}
    assert len(results_figures.alignment_tax_figure(text_only).axes) == len(saved_metrics["splits"])


def test_pareto_front():
    points = [(0.9, 0.1), (0.5, 0.9), (0.6, 0.6), (0.4, 0.5), (0.9, 0.05)]
    assert results_figures.pareto_front(points) == [(0.5, 0.9), (0.6, 0.6), (0.9, 0.1)]


def test_model_colors_are_stable_across_figures():
    few = style.model_colors(["dpo_balanced", "gpt-4o"])
    many = style.model_colors(["base", "sft_helpful", "dpo_balanced", "gpt-4o"])
    assert few["dpo_balanced"] == many["dpo_balanced"] and few["gpt-4o"] == many["gpt-4o"]


def test_notebook_06_regenerates_the_same_files_through_papermill(saved, tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "runs" / "fx")
    params_file = tmp_path / "fx.yaml"
    params_file.write_text(
        f"run_name: fx\nruns_dir: {tmp_path / 'runs'}\nfigures:\n  out_dir: {tmp_path / 'figures'}\n")
    cfg = params.load(params_file)
    started = time.perf_counter()
    run.execute(cfg, ["06_figures"], notebooks_dir=ROOT / "notebooks", progress=False)
    assert time.perf_counter() - started < 120
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == sorted(FIGURE_FILES + TABLE_FILES)
    for name in FIGURE_FILES + TABLE_FILES:  # another process, the same bytes
        assert (tmp_path / "figures" / name).read_bytes() == (saved[0] / name).read_bytes(), name
    executed = nbformat.read(tmp_path / "runs" / "fx" / "notebooks" / "06_figures.ipynb", as_version=4)
    outputs = [o for cell in executed.cells if cell.cell_type == "code" for o in cell.outputs]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == len(plots.FIGURES)
    text = "".join(o.get("text", "") for o in outputs)
    assert "dpo_balanced is more accurate than base" in text
    assert "dpo_balanced on test (TEXT): answers 0.50 [0.00, 1.00] of legitimate synthesis requests (n=2)" in text
    assert "dpo_balanced answers 0.20 more checkable requests correctly than the base on test (TEXT)" in text
    assert files.read_json(tmp_path / "runs" / "fx" / "timings.json")["06_figures"] > 0


def test_committed_figures_are_those_of_the_committed_results(tmp_path):
    default = params.load(ROOT / "params" / "default.yaml")
    written = plots.save_all(default.paths.run_dir, tmp_path, formats=("png",))
    committed = metrics.read_metrics(default.paths.results / "metrics.json")
    skipped = [name for name, key in (("fig_alignment_tax", "alignment_tax"), ("fig_dual_use", "dual_use"))
               if key not in committed]  # results saved before it was computed
    tables = TABLE_FILES if "dual_use" in committed else TABLE_FILES[:2]
    assert len(written) == len(plots.FIGURES) - len(skipped) + len(tables)
    for path in written:
        assert path.read_bytes() == (default.figures_dir() / path.name).read_bytes(), path.name
