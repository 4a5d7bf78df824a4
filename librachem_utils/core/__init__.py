"""Core: params (schema and load-time checks) and sections (the base of every params section, the
sections that name a model), atomic files, provenance, tables, and ``schema`` (the names every stage
shares: labels, compound classes, splits, arms, steps, the default seed).

Imports nothing from the rest of the package.
"""
