"""Model access: the OpenAI-compatible client (concurrency, retries, rate limits, cache), the local
test server that speaks its protocol, a local transformers model (loading, batched generation), and
the instructions the data pipeline sends to a model. May import ``core``, ``chem``, ``safety``.
"""
