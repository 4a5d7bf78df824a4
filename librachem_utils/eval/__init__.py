"""Evaluation (notebook 05): generation for evaluation, judges (rule, LLM, guard models, hybrid,
the paper's) and the models behind them, fact check, metrics, other people's test sets and
responses files, the judge CLI and its ``validate`` command. May import every stage above it
(``core`` to ``train``).
"""
