"""LibraChem reproduction: the package behind the numbered notebooks.

One subpackage per stage of the paper. Imports run one way only, down this list (a module may
import from its own subpackage and from those above it, never from one below):

- ``core``: params (schema and load-time checks), atomic files, provenance, tables, ``schema``;
- ``chem``: the knowledge base and its curated data files;
- ``safety``: the hazard gate and the refusal detector;
- ``api``: ways to reach a model: the OpenAI-compatible client, the local test server, a local
  transformers model (loading and batched generation), the instructions sent to a model;
- ``data``: seeds, phrasebook, generator backends, triplets, rephrasing, dataset export;
- ``train``: device, arms, the tiny model, stages (SFT, DPO), reward accuracy, cards, CLI;
- ``eval``: generation for evaluation, judges, fact check, metrics, other people's test sets;
- ``report``: figures and tables, from saved results only.

``steps`` holds one function per notebook and ``run`` the papermill runner; both may import anything.
"""

__version__ = "0.1.0"
