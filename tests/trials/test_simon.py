"""Simon two-stage designs by exact enumeration reproduce the published tables.

References:
  Simon R (1989). Optimal two-stage designs for phase II clinical trials. Control Clin Trials
  10:1-10, Table 1 (e.g. p0 = 0.10, p1 = 0.30, alpha = 0.05, beta = 0.20: optimal 1/10, 5/29,
  EN0 = 15.0, PET0 = 0.74; minimax 1/15, 5/25, EN0 = 19.5, PET0 = 0.55).
  Qin F, Wu J, Chen F, et al. (2020). Optimal, minimax and admissible two-stage design for
  phase II oncology clinical trials. BMC Med Res Methodol 20:126, table "Optimal, minimax and
  admissible design for Simon's two-stage design" (alpha, power, n1, r1, PET0, n, r, EN0 and
  the interval of q for admissible designs of Jung et al. (2004) Stat Med 23:561-569).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from permedhub.trials.errors import TrialInputError
from permedhub.trials.simon import SimonDesign, simon_two_stage

# Qin et al. (2020), Simon's design: (p0, p1, alpha, beta) -> rows from minimax to optimal:
# (alpha, power, n1, r1, PET0, n, r, EN0, q_low, q_high)
QIN_2020 = {
    (0.05, 0.25, 0.05, 0.20): [
        (0.043, 0.801, 12, 0, 0.540, 16, 2, 13.8, 0.643, 1.000),
        (0.047, 0.812, 9, 0, 0.630, 17, 2, 12.0, 0.000, 0.643),
    ],
    (0.10, 0.30, 0.05, 0.20): [
        (0.033, 0.802, 15, 1, 0.549, 25, 5, 19.5, 0.730, 1.000),
        (0.036, 0.805, 12, 1, 0.659, 26, 5, 16.8, 0.500, 0.730),
        (0.040, 0.806, 11, 1, 0.697, 27, 5, 15.8, 0.286, 0.500),
        (0.047, 0.805, 10, 1, 0.736, 29, 5, 15.0, 0.000, 0.286),
    ],
    (0.30, 0.50, 0.05, 0.20): [
        (0.046, 0.804, 19, 6, 0.666, 39, 16, 25.7, 0.250, 1.000),
        (0.044, 0.801, 18, 6, 0.722, 42, 17, 24.7, 0.216, 0.250),
        (0.050, 0.803, 15, 5, 0.722, 46, 18, 23.6, 0.000, 0.216),
    ],
    (0.05, 0.25, 0.10, 0.10): [
        (0.074, 0.903, 13, 0, 0.513, 20, 2, 16.4, 0.524, 1.000),
        (0.078, 0.905, 11, 0, 0.569, 21, 2, 15.3, 0.333, 0.524),
        (0.083, 0.905, 10, 0, 0.599, 22, 2, 14.8, 0.091, 0.333),
        (0.093, 0.903, 9, 0, 0.630, 24, 2, 14.6, 0.000, 0.091),
    ],
}


def _q_from_rounded_en0(designs: tuple[SimonDesign, ...]) -> list[float]:
    """Break points of q computed as the published table did: from EN0 rounded to 0.1."""
    breaks = []
    for a, b in itertools.pairwise(designs):
        slope = (round(a.expected_n0, 1) - round(b.expected_n0, 1)) / (b.n - a.n)
        breaks.append(slope / (1 + slope))
    return breaks


def test_simon_1989_example_optimal_and_minimax() -> None:
    result = simon_two_stage(0.10, 0.30, alpha=0.05, beta=0.20)
    optimal, minimax = result.optimal, result.minimax
    assert (optimal.r1, optimal.n1, optimal.r, optimal.n) == (1, 10, 5, 29)
    assert optimal.expected_n0 == pytest.approx(15.0, abs=0.05)
    assert optimal.pet0 == pytest.approx(0.74, abs=0.005)
    assert (minimax.r1, minimax.n1, minimax.r, minimax.n) == (1, 15, 5, 25)
    assert minimax.expected_n0 == pytest.approx(19.5, abs=0.05)
    assert minimax.pet0 == pytest.approx(0.55, abs=0.005)
    assert optimal.alpha <= 0.05 and optimal.power >= 0.80


@pytest.mark.parametrize("key", sorted(QIN_2020))
def test_optimal_minimax_and_admissible_designs_reproduce_qin_2020(
    key: tuple[float, float, float, float],
) -> None:
    published = QIN_2020[key]
    # Search up to a little beyond the largest published n (the default limit is wider).
    result = simon_two_stage(*key, n_max=max(row[5] for row in published) + 5)
    assert len(result.admissible) == len(published)
    assert result.admissible[0].n == result.minimax.n
    assert result.admissible[0].expected_n0 == result.minimax.expected_n0
    assert result.admissible[-1].n == result.optimal.n
    for design, row in zip(result.admissible, published, strict=True):
        alpha, power, n1, r1, pet0, n, r, en0, _, _ = row
        assert (design.n1, design.r1, design.n, design.r) == (n1, r1, n, r)
        assert design.alpha == pytest.approx(alpha, abs=1e-3)
        assert design.power == pytest.approx(power, abs=1e-3)
        assert design.pet0 == pytest.approx(pet0, abs=5e-4)
        # 14.546 is printed as 14.6 (0.05/0.25 with alpha = beta = 0.1): rounding of the table.
        assert design.expected_n0 == pytest.approx(en0, abs=0.055)


def test_admissible_q_intervals_differ_from_the_table_only_by_its_rounded_en0() -> None:
    # Qin et al. derive the q break points from EN0 rounded to one decimal; with exact EN0 the
    # break points move slightly (0.293 instead of 0.286 ...). Rounded EN0 reproduces them.
    result = simon_two_stage(0.10, 0.30, alpha=0.05, beta=0.20)
    published = [row[8] for row in QIN_2020[0.10, 0.30, 0.05, 0.20][:-1]]
    assert _q_from_rounded_en0(result.admissible) == pytest.approx(published, abs=5e-4)
    exact = [d.q_low for d in result.admissible[:-1]]
    assert exact == pytest.approx([0.7324, 0.4823, 0.2928], abs=5e-4)
    # Intervals tile [0, 1].
    assert result.admissible[0].q_high == 1.0 and result.admissible[-1].q_low == 0.0
    for upper, lower in zip(result.admissible, result.admissible[1:], strict=False):
        assert upper.q_low == pytest.approx(lower.q_high)


def test_operating_characteristics_are_exact_binomial_sums() -> None:
    from scipy.stats import binom

    design = simon_two_stage(0.20, 0.40, alpha=0.05, beta=0.20).optimal

    def reject(p: float) -> float:
        return sum(
            binom.pmf(x, design.n1, p) * binom.sf(design.r - x, design.n - design.n1, p)
            for x in range(design.r1 + 1, design.n1 + 1)
        )

    assert design.alpha == pytest.approx(reject(0.20), abs=1e-12)
    assert design.power == pytest.approx(reject(0.40), abs=1e-12)
    pet1 = binom.cdf(design.r1, design.n1, 0.40)
    assert design.expected_n1 == pytest.approx(design.n1 + (1 - pet1) * (design.n - design.n1))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"p0": 0.0}, "p0"),
        ({"p0": 1.5}, "p0"),
        ({"p1": 0.1}, "p1"),
        ({"alpha": 0.5}, "alpha"),
        ({"beta": 0.0}, "beta"),
        ({"beta": 0.96}, "beta"),
        ({"n_max": 10}, "n_max"),
        ({"n_max": 5000}, "n_max"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, float], field: str) -> None:
    arguments: dict[str, float] = {"p0": 0.2, "p1": 0.4, "alpha": 0.05, "beta": 0.2}
    arguments.update(kwargs)
    with pytest.raises(TrialInputError) as error:
        simon_two_stage(**arguments)  # type: ignore[arg-type]
    assert error.value.field == field


def _brute_force_best_per_n(
    p0: float, p1: float, alpha: float, beta: float, n_max: int
) -> dict[int, tuple[float, int, int, int]]:
    """Every (n1, r1, r) with scipy's binomial: the reference for the pruned search."""
    from scipy.stats import binom

    def reject(p: float, n: int, n1: int, r1: int, r: int) -> float:
        x1 = np.arange(r1 + 1, n1 + 1)
        return float(np.sum(binom.pmf(x1, n1, p) * binom.sf(r - x1, n - n1, p)))

    best: dict[int, tuple[float, int, int, int]] = {}
    for n in range(2, n_max + 1):
        for n1 in range(1, n):
            for r1 in range(0, n1):
                r = next(
                    (r for r in range(r1, n) if reject(p0, n, n1, r1, r) <= alpha + 1e-12), None
                )
                if r is None or reject(p1, n, n1, r1, r) < 1 - beta - 1e-12:
                    continue
                en0 = n1 + (1 - binom.cdf(r1, n1, p0)) * (n - n1)
                if n not in best or en0 < best[n][0] - 1e-12:
                    best[n] = (en0, n1, r1, r)
    return best


@pytest.mark.parametrize(
    ("p0", "p1", "alpha", "beta"),
    [(0.2, 0.5, 0.05, 0.2), (0.5, 0.8, 0.1, 0.1), (0.7, 0.95, 0.05, 0.2), (0.1, 0.45, 0.05, 0.1)],
)
def test_the_pruned_search_finds_what_every_design_enumerated_finds(
    p0: float, p1: float, alpha: float, beta: float
) -> None:
    from permedhub.trials.simon import _best_per_n

    n_max = 18
    reference = _brute_force_best_per_n(p0, p1, alpha, beta, n_max)
    found = _best_per_n(p0, p1, alpha, beta, n_max)
    assert reference, "the reference grid must hold feasible designs"
    assert sorted(found) == sorted(reference)
    for n, (en0, n1, r1, r) in reference.items():
        design = found[n]
        assert (design.n1, design.r1, design.r) == (n1, r1, r)
        assert design.expected_n0 == pytest.approx(en0, abs=1e-12)


def test_an_effect_too_small_for_the_search_cap_says_so_and_names_p1() -> None:
    with pytest.raises(TrialInputError) as error:
        simon_two_stage(0.01, 0.02)
    assert error.value.field == "p1"
    message = str(error.value)
    assert "n_max" not in message
    assert "n <= 300" in message and "single-stage design needs about" in message


def test_a_maximum_given_too_small_is_named_as_such() -> None:
    with pytest.raises(TrialInputError, match=r"n_max = 20 is invalid: expected a larger maximum"):
        simon_two_stage(0.1, 0.2, n_max=20)
