"""Evaluation (notebook 05): generation for evaluation, judges (rule, LLM, hybrid, the paper's),
fact check, metrics, other people's test sets, the judge CLI. May import every stage above it
(``core`` to ``train``).
"""
