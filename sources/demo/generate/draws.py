"""Seeded, reproducible random draws: one independent stream per decision family."""

import random
from collections.abc import Sequence


def seeded(seed: int, *labels: object) -> random.Random:
    """An independent, reproducible stream for one decision family (string seeds hash with
    SHA-512 in `random`, so they do not depend on PYTHONHASHSEED)."""
    return random.Random(f"ledgergate-demo/{seed}/" + "/".join(str(x) for x in labels))


def weighted(rng: random.Random, choices: Sequence[tuple[object, int]]):
    total = sum(w for _, w in choices)
    pick = rng.randrange(total)
    for value, weight in choices:
        if pick < weight:
            return value
        pick -= weight
    raise AssertionError("unreachable")


def covering(rng: random.Random, nth: int, choices: Sequence[tuple[object, int]]):
    """The nth of `choices` while there are that many, so each comes up at least once; after
    that a weighted draw (the only use of `rng`)."""
    return choices[nth][0] if nth < len(choices) else weighted(rng, choices)
