"""LibraChem reproduction: the package behind the numbered notebooks.

One module per concern: ``chem_kb`` (knowledge base), ``seeds``, ``generators``, ``triplets``,
``rephrase``, ``train``, ``refusal`` / ``hazard`` / ``judge`` (evaluation), ``metrics``, ``plots``,
``params`` and ``run`` (the papermill runner), ``io`` (atomic, traceable writes).
"""

__version__ = "0.1.0"
