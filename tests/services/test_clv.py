"""The CLV models against the published CDNOW figures (tests/fixtures/cdnow/README.md), and
the maths' edge cases. The figures are the papers', not this code's: Fader, Hardie and Lee
(2005) print r = 0.243, alpha = 4.414, a = 0.793, b = 2.426 and LL = -9582.4 for the BG/NBD on
the 39-week calibration period, and E[Y(39) | x=2, t_x=30.43, T=38.86] = 1.226; Fader and
Hardie (2013) print p = 6.25, q = 3.74, gamma = 15.44 for the Gamma-Gamma model."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from crmcli.services import clv

CDNOW = Path(__file__).parents[1] / "fixtures" / "cdnow" / "CDNOW_sample.txt"
CALIBRATION_END = date(1997, 9, 30)  # 39 weeks after 1 January 1997, that day included


def cdnow_purchases() -> dict[str, dict[date, float]]:
    """Each customer's purchases as the paper counts them: one a day (a day's records summed)."""
    days: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for line in CDNOW.read_text().splitlines():
        customer, _, when, _, dollars = line.split()
        day = date(int(when[:4]), int(when[4:6]), int(when[6:]))
        days[customer][day] += float(dollars)
    return days


@pytest.fixture(scope="module")
def calibration():
    """(x, t_x, T) in weeks per customer, and (x, mean repeat purchase value) where x > 0."""
    rows, money = [], []
    for by_day in cdnow_purchases().values():
        seen = sorted(d for d in by_day if d <= CALIBRATION_END)
        first, repeats = seen[0], seen[1:]
        rows.append((len(repeats), (seen[-1] - first).days / 7, (CALIBRATION_END - first).days / 7))
        if repeats:
            money.append((len(repeats), sum(by_day[d] for d in repeats) / len(repeats)))
    return rows, money


def test_the_sample_is_the_papers(calibration):
    rows, money = calibration
    assert len(CDNOW.read_text().splitlines()) == 6919
    assert len(rows) == 2357 and len(money) == 946


def test_bgnbd_reproduces_the_published_cdnow_estimates(calibration):
    m = clv.fit_bgnbd(calibration[0])
    assert (round(m.r, 3), round(m.alpha, 3), round(m.a, 3), round(m.b, 3)) == (
        0.243, 4.414, 0.793, 2.426,
    )  # fmt: skip
    assert round(m.log_likelihood, 1) == -9582.4
    assert round(clv.expected_purchases(m, 39, 2, 30.43, 38.86), 3) == 1.226


def test_gamma_gamma_reproduces_the_published_cdnow_estimates(calibration):
    g = clv.fit_gamma_gamma(calibration[1])
    assert (round(g.p, 2), round(g.q, 2), round(g.gamma, 2)) == (6.25, 3.74, 15.44)


PAPER = clv.BgNbd(0.243, 4.414, 0.793, 2.426, 0.0)


def test_p_alive_and_expected_purchases_follow_the_history():
    assert clv.p_alive(PAPER, 0, 0, 38.86) == 1.0  # no repeat purchase: no drop-out yet
    recent, lapsed = clv.p_alive(PAPER, 5, 38, 39), clv.p_alive(PAPER, 5, 5, 39)
    assert 0 < lapsed < recent < 1
    assert clv.expected_purchases(PAPER, 0, 2, 30, 39) == 0.0
    few, more = (clv.expected_purchases(PAPER, t, 2, 30.43, 38.86) for t in (13, 52))
    assert 0 < few < more


def test_expected_value_shrinks_towards_the_population_mean():
    g = clv.GammaGamma(6.25, 3.74, 15.44, 0.0)
    population = 6.25 * 15.44 / 2.74
    assert clv.expected_value(g, 0, None) == pytest.approx(population)
    one, many = clv.expected_value(g, 1, 100.0), clv.expected_value(g, 50, 100.0)
    assert population < one < many < 100.0


def test_hyp2f1_against_closed_forms():
    # 2F1(1, 1; 2; z) = -ln(1 - z) / z; 2F1(a, b; b; z) = (1 - z)^-a
    assert clv.hyp2f1(1, 1, 2, 0.5) == pytest.approx(-math.log(0.5) / 0.5, rel=1e-12)
    assert clv.hyp2f1(2.5, 3, 3, 0.3) == pytest.approx(0.7**-2.5, rel=1e-12)


def test_nelder_mead_finds_the_rosenbrock_minimum():
    def rosenbrock(p):
        return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2

    best, value = clv.nelder_mead(rosenbrock, [-1.2, 1.0])
    assert best == pytest.approx([1.0, 1.0], abs=1e-6) and value < 1e-12


def test_fits_refuse_no_data():
    with pytest.raises(ValueError):
        clv.fit_bgnbd([])
    with pytest.raises(ValueError):
        clv.fit_gamma_gamma([(0, 10.0)])


def test_the_array_likelihood_is_the_loops(monkeypatch):
    import random

    from crmcli.services import clv

    rng = random.Random(7)
    rows = []
    for _ in range(3000):
        big_t = rng.randint(1, 80) / 7
        x = rng.choice((0, 0, 1, 2, 5, 30))
        rows.append((x, 0.0 if x == 0 else rng.uniform(0, big_t), big_t))
    groups = clv._grouped(rows)
    arrays = clv.bgnbd_arrays(groups)
    for params in ((0.243, 4.414, 0.793, 2.426), (1.5, 0.2, 3.0, 0.9), (0.05, 40.0, 0.1, 9.0)):
        loop = clv.bgnbd_log_likelihood(*params, groups)
        assert abs(arrays(*params) - loop) <= 1e-9 * abs(loop)
    by_loop = clv.fit_bgnbd(rows)
    monkeypatch.setattr(clv, "ARRAYS_FROM", 0)
    assert clv.fit_bgnbd(rows)[:4] == pytest.approx(by_loop[:4], rel=1e-6)


def test_the_array_gamma_gamma_likelihood_is_the_loops():
    import random

    from crmcli.services import clv

    rng = random.Random(8)
    rows = [(rng.choice((1, 2, 3, 7, 20)), round(rng.uniform(5, 300), 2)) for _ in range(2000)]
    groups = clv._grouped(rows)
    arrays = clv.gamma_gamma_arrays(groups)
    for params in ((6.25, 3.74, 15.44), (0.5, 9.0, 200.0)):
        loop = clv.gamma_gamma_log_likelihood(*params, groups)
        assert abs(arrays(*params) - loop) <= 1e-9 * abs(loop)
