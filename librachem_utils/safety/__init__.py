"""Safety: the hazard gate (procedure-like text) and the refusal detector, used both by data
generation and by judging. May import ``core``.
"""
