"""What the benchmarks share: a row of the results table, the sizes of a full and a quick run, and
the offline pipeline they draw their inputs from."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Row:
    name: str
    value: Optional[float]
    unit: str
    goal: str = ""
    met: Optional[bool] = None  # None: no goal, or not measured
    note: str = ""
    details: dict = field(default_factory=dict)

    def cells(self) -> list[str]:
        value = "-" if self.value is None else f"{self.value:,.3g}" if abs(self.value) < 100 else f"{self.value:,.0f}"
        met = {True: "yes", False: "NO", None: "-"}[self.met]
        return [self.name, f"{value} {self.unit}".strip(), self.goal or "-", met, self.note]


@dataclass(frozen=True)
class Sizes:
    latency_s: float
    sequential_items: int
    concurrent_items: int
    concurrency: int
    rate_limit_rpm: float
    rate_limit_s: float
    judge_s: float
    generation_prompts: int
    generation_tokens: int
    train_warmup_steps: int  # untimed steps before each timed training run
    train_min_steps: int  # timed steps of a run, at least ...
    train_max_steps: int  # ... and at most
    train_run_s: float  # each run stops at its first step past this many timed seconds (and min steps)


FULL = Sizes(latency_s=0.1, sequential_items=30, concurrent_items=960, concurrency=32, rate_limit_rpm=600.0,
             rate_limit_s=20.0, judge_s=3.0, generation_prompts=32, generation_tokens=32, train_warmup_steps=1,
             train_min_steps=3, train_max_steps=200, train_run_s=5.0)
QUICK = Sizes(latency_s=0.1, sequential_items=10, concurrent_items=320, concurrency=32, rate_limit_rpm=600.0,
              rate_limit_s=5.0, judge_s=1.0, generation_prompts=16, generation_tokens=16, train_warmup_steps=1,
              train_min_steps=2, train_max_steps=50, train_run_s=1.5)


def offline_setup():
    """(knowledge base, offline generator, balanced seed over every compound), all seeded with 13."""
    from librachem_utils.chem.knowledge_base import load_kb
    from librachem_utils.data.generators import OfflineGenerator
    from librachem_utils.data.seeds import balanced_seeds

    kb = load_kb()
    return kb, OfflineGenerator(kb, seed=13), balanced_seeds(kb.compounds, seed=13)
