"""Data (notebooks 01-03): seeds, phrasebook, generator backends, triplets, rephrasing, dataset
export. May import ``core``, ``chem``, ``safety``, ``api``.
"""
