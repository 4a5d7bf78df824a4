"""Chemistry: the knowledge base of common and restricted compounds and its curated data files
(``chem/data``). May import ``core``.
"""
