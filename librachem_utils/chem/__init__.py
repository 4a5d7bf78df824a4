"""Chemistry: the knowledge base of common and restricted compounds (``knowledge_base``: the table
and its lookup), its rebuild from the curated data files in ``chem/data`` (``build``). May import ``core``.
"""
