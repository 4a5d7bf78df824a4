"""Diversity measures: fixed sample size, so adding rows of the same kind leaves them where they are."""
import random

from librachem_utils.data import diversity, grammar
from librachem_utils.data.clauses import REQUESTS


def rows(n: int, seed: int) -> list[dict]:
    """``n`` rows whose prompts are rephrasings drawn from the grammar and whose responses are fixed."""
    rng = random.Random(seed)
    requests = [r["as"] for rs in REQUESTS.values() for r in rs if "{P}" not in r["as"]]
    return [{"prompt": grammar.rephrase_prompt(rng.choice(requests), rng), "chosen": "Sure. It is stored cold.",
             "rejected": "I can't help with that.", "aspect": None} for _ in range(n)]


def test_more_rows_of_the_same_kind_do_not_move_the_sampled_measures():
    small = diversity.diversity(rows(600, 1), seed=3, sample_rows=500)
    large = diversity.diversity(rows(3000, 2), seed=3, sample_rows=500)
    for n in (1, 2, 3):
        a, b = small[f"prompt_distinct_{n}_per_1k"], large[f"prompt_distinct_{n}_per_1k"]
        assert abs(a - b) < 0.1 * a, (n, a, b)
    assert abs(small["prompt_pairwise_jaccard"] - large["prompt_pairwise_jaccard"]) < 0.02
    assert large["prompt_shapes"] > small["prompt_shapes"]
    # the share of distinct n-grams over every row, the old measure, falls by a third or more
    shares = [diversity.distinct_n([r["prompt"] for r in rs], 3) for rs in (rows(600, 1), rows(3000, 2))]
    assert shares[1][0] / shares[1][1] < 0.67 * shares[0][0] / shares[0][1]


def test_shapes_mask_the_property_and_the_values_do_not_count_as_wording():
    a = {"prompt": "What is the boiling point of [[compound]]?", "aspect": "boiling_point"}
    b = {"prompt": "What is the flash point of [[compound]]?", "aspect": "flash_point"}
    assert diversity.shape(a["prompt"], a["aspect"]) == diversity.shape(b["prompt"], b["aspect"])
    assert diversity.wording("C2H6O has a molar mass of 46.07 g/mol (CAS 64-17-5).") == \
        "<n> has a molar mass of <n> g/mol (CAS <n>)."
    assert diversity.distinct_n(["It boils at 56 °C.", "It boils at 78 °C."], 2) == (4, 8)


def test_the_card_table_has_one_row_per_measure_and_a_column_per_stage():
    stages = [{"stage": "generated", **diversity.diversity(rows(50, 1), 1)},
              {"stage": "rephrased", **diversity.diversity(rows(80, 2), 1)}]
    table = diversity.diversity_table(stages)
    assert {r["measure"] for r in table} == set(stages[0]) - {"stage"}
    assert all(set(r) == {"measure", "generated", "rephrased"} for r in table)
