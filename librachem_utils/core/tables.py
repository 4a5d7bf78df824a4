"""Tables as text: Markdown pipe tables and booktabs LaTeX, from rows of dicts (standard library only)."""
from __future__ import annotations

from typing import Sequence


def to_markdown(rows: Sequence[dict]) -> str:
    """A pipe table of ``rows`` (dicts with the same keys); "(none)" when there are no rows."""
    if not rows:
        return "(none)\n"
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(row[key]) for key in head) + " |" for row in rows]
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(char, char) for char in str(text))


def to_latex(rows: Sequence[dict]) -> str:
    """A booktabs tabular of ``rows`` (needs ``\\usepackage{booktabs}``), special characters escaped;
    a one-cell "(none)" table when there are no rows."""
    if not rows:
        return "\n".join([r"\begin{tabular}{l}", r"\toprule", r"(none) \\", r"\bottomrule", r"\end{tabular}"]) + "\n"
    head = list(rows[0])
    align = "".join("r" if isinstance(rows[0][key], (int, float)) else "l" for key in head)
    lines = [rf"\begin{{tabular}}{{{align}}}", r"\toprule", " & ".join(map(latex_escape, head)) + r" \\", r"\midrule"]
    lines += [" & ".join(latex_escape(row[key]) for key in head) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"
