"""Customer lifetime value models, fitted by maximum likelihood. Pure functions on numbers.

- BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy way"): while alive a
  customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); after each purchase
  they drop out with probability p ~ Beta(a, b). Per customer: x repeat purchases (on
  distinct days after the first), t_x the time of the last one and T the time since the
  first, both from the first purchase and in one unit (days or weeks).
- Gamma-Gamma (Fader and Hardie 2013, "The Gamma-Gamma model of monetary value"): the value
  of a customer's repeat purchases is Gamma(p, nu) around their mean, with nu ~
  Gamma(q, gamma); fitted on customers with x > 0 and their mean repeat purchase value.

The optimiser is a Nelder-Mead simplex on the logarithms of the parameters (all are
positive), written here with math.lgamma: it reproduces the published CDNOW estimates and
imports nothing (scipy takes ~0.3 s to import, more than the CDNOW fit's 0.15 s). Customers
with the same (x, t_x, T) are folded into one weighted term first, and what depends on x
alone is computed once per x and evaluation.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple


class BgNbd(NamedTuple):
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


class GammaGamma(NamedTuple):
    p: float
    q: float
    gamma: float
    log_likelihood: float


def nelder_mead(
    f: Callable[[list[float]], float],
    x0: Sequence[float],
    *,
    step: float = 0.5,
    xtol: float = 1e-9,
    ftol: float = 1e-11,
    max_evals: int = 20_000,
) -> tuple[list[float], float]:
    """The minimum of f near x0 (Nelder and Mead 1965, standard coefficients): the point and
    f there. Stops when the simplex is smaller than xtol in every coordinate and its values
    differ by less than ftol (relative), or after max_evals evaluations."""
    n = len(x0)
    simplex = [list(x0)]
    for i in range(n):
        point = list(x0)
        point[i] += step
        simplex.append(point)
    values = [f(p) for p in simplex]
    evals = n + 1
    while evals < max_evals:
        order = sorted(range(n + 1), key=values.__getitem__)
        simplex = [simplex[i] for i in order]
        values = [values[i] for i in order]
        spread = max(abs(simplex[i][j] - simplex[0][j]) for i in range(1, n + 1) for j in range(n))
        if spread < xtol and abs(values[-1] - values[0]) <= ftol * (1 + abs(values[0])):
            break
        centroid = [sum(p[j] for p in simplex[:-1]) / n for j in range(n)]
        worst = simplex[-1]

        def toward(t: float, worst=worst, centroid=centroid) -> list[float]:
            return [c + t * (w - c) for c, w in zip(centroid, worst, strict=True)]

        reflected = toward(-1.0)
        fr = f(reflected)
        evals += 1
        if fr < values[0]:
            expanded = toward(-2.0)
            fe = f(expanded)
            evals += 1
            simplex[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = reflected, fr
        else:
            contracted = toward(0.5 if fr >= values[-1] else -0.5)
            fc = f(contracted)
            evals += 1
            if fc < min(fr, values[-1]):
                simplex[-1], values[-1] = contracted, fc
            else:  # shrink towards the best point
                best = simplex[0]
                for i in range(1, n + 1):
                    simplex[i] = [b + 0.5 * (p - b) for b, p in zip(best, simplex[i], strict=True)]
                    values[i] = f(simplex[i])
                evals += n
    lowest = min(range(n + 1), key=values.__getitem__)
    return simplex[lowest], values[lowest]


def _grouped(rows: Iterable[tuple]) -> list[tuple[tuple, int]]:
    return sorted(Counter(rows).items())


def bgnbd_log_likelihood(
    r: float, alpha: float, a: float, b: float, groups: Sequence[tuple[tuple, int]]
) -> float:
    """The BG/NBD log-likelihood of (x, t_x, T) rows, each with its count (eq. 6 of the
    paper, summed on the log scale without overflow)."""
    lg, log, log1p, exp = math.lgamma, math.log, math.log1p, math.exp
    base = -lg(r) + r * log(alpha) + lg(a + b) - lg(b)
    per_x: dict[int, tuple[float, float, float | None]] = {}  # what depends on x alone
    total = 0.0
    for (x, t_x, big_t), n in groups:
        known = per_x.get(x)
        if known is None:
            known = per_x[x] = (
                base + lg(r + x) + lg(b + x) - lg(a + b + x),
                r + x,
                log(a) - log(b + x - 1) if x > 0 else None,
            )
        common, rx, a4_part = known
        a3 = -rx * log(alpha + big_t)
        if a4_part is None:
            term = a3
        else:  # log(exp(a3) + exp(a4)) without overflow
            a4 = a4_part - rx * log(alpha + t_x)
            term = a4 + log1p(exp(a3 - a4)) if a4 > a3 else a3 + log1p(exp(a4 - a3))
        total += n * (common + term)
    return total


def _positive(f: Callable[..., float], k: int) -> Callable[[list[float]], float]:
    """f of k positive parameters as a function of their logarithms, to be minimised."""

    def g(logs: list[float]) -> float:
        try:
            value = f(*(math.exp(v) for v in logs))
        except (ValueError, OverflowError, ZeroDivisionError):
            return math.inf
        return -value if math.isfinite(value) else math.inf

    return g


# From this many (x, t_x, T) groups on, the likelihood is summed by numpy: below, importing
# it (~0.1 s) costs more than the plain loop saves.
ARRAYS_FROM = 5_000


def bgnbd_arrays(groups: Sequence[tuple[tuple, int]]) -> Callable[..., float]:
    """bgnbd_log_likelihood of `groups` as a function of (r, alpha, a, b), summed with
    numpy arrays: the same terms, what depends on x alone once per x, the logarithms once
    per distinct t_x and T (times in whole days take a few hundred values), then one array
    pass over the groups."""
    import numpy as np

    x = np.array([g[0][0] for g in groups], dtype=np.int64)
    t_x = np.array([g[0][1] for g in groups], dtype=np.float64)
    big_t = np.array([g[0][2] for g in groups], dtype=np.float64)
    n = np.array([g[1] for g in groups], dtype=np.float64)
    xs, x_at = np.unique(x, return_inverse=True)
    ts, t_at = np.unique(big_t, return_inverse=True)
    repeat = x > 0
    rx_counts = x[repeat].astype(np.float64)
    txs, tx_at = np.unique(t_x[repeat], return_inverse=True)
    x_rep = x_at[repeat]
    n_rep, n_once = n[repeat], n[~repeat]
    t_rep, t_once = t_at[repeat], t_at[~repeat]
    weight_x = np.bincount(x_at, weights=n, minlength=len(xs))  # customers per x
    xs_list = xs.tolist()
    lg, log = math.lgamma, math.log

    def ll(r: float, alpha: float, a: float, b: float) -> float:
        base = -lg(r) + r * log(alpha) + lg(a + b) - lg(b)
        common = np.array([base + lg(r + v) + lg(b + v) - lg(a + b + v) for v in xs_list])
        a4_part = np.array([log(a) - log(b + v - 1) if v > 0 else 0.0 for v in xs_list])
        log_t = np.log(alpha + ts)
        total = float(np.dot(weight_x, common))
        # once-buyers (x = 0): the a3 term alone, -r log(alpha + T)
        total += float(np.dot(n_once, -r * log_t[t_once]))
        rx = r + rx_counts
        a3 = -rx * log_t[t_rep]
        a4 = a4_part[x_rep] - rx * np.log(alpha + txs)[tx_at]
        # log(exp(a3) + exp(a4)) as max + log(1 + exp(-|a3 - a4|)): np.logaddexp is exact
        # too but several times slower; the sum differs from it by ~1e-16 a term.
        high = np.maximum(a3, a4)
        np.subtract(a3, a4, out=a3)
        np.abs(a3, out=a3)
        np.negative(a3, out=a3)
        np.exp(a3, out=a3)
        a3 += 1.0
        np.log(a3, out=a3)
        a3 += high
        return total + float(np.dot(n_rep, a3))

    return ll


def fit_bgnbd(rows: Iterable[tuple[int, float, float]]) -> BgNbd:
    """Fit BG/NBD to (x, t_x, T) per customer by maximum likelihood."""
    groups = _grouped(rows)
    if not groups:
        raise ValueError("no customers to fit")
    if len(groups) >= ARRAYS_FROM:
        f = _positive(bgnbd_arrays(groups), 4)
    else:
        f = _positive(lambda r, al, a, b: bgnbd_log_likelihood(r, al, a, b, groups), 4)
    best, _ = nelder_mead(f, [0.0, 0.0, 0.0, 0.0])
    # A restart from the optimum makes the simplex small and well shaped again there.
    best, value = nelder_mead(f, best, step=0.05)
    r, alpha, a, b = (math.exp(v) for v in best)
    return BgNbd(r, alpha, a, b, -value)


def gamma_gamma_log_likelihood(
    p: float, q: float, gamma: float, groups: Sequence[tuple[tuple, int]]
) -> float:
    """The Gamma-Gamma log-likelihood of (x, mean repeat value) rows with x > 0."""
    lg, log = math.lgamma, math.log
    base = -lg(q) + q * log(gamma)
    per_x: dict[int, tuple[float, float]] = {}  # what depends on x alone
    total = 0.0
    for (x, m), n in groups:
        known = per_x.get(x)
        if known is None:
            px = p * x
            known = per_x[x] = (px, base + lg(px + q) - lg(px) + px * log(x))
        px, common = known
        total += n * (common + (px - 1) * log(m) - (px + q) * log(gamma + m * x))
    return total


def gamma_gamma_arrays(groups: Sequence[tuple[tuple, int]]) -> Callable[..., float]:
    """gamma_gamma_log_likelihood of `groups` as a function of (p, q, gamma), summed with
    numpy arrays (what depends on x alone once per x)."""
    import numpy as np

    x = np.array([g[0][0] for g in groups], dtype=np.float64)
    m = np.array([g[0][1] for g in groups], dtype=np.float64)
    n = np.array([g[1] for g in groups], dtype=np.float64)
    xs, x_at = np.unique(x, return_inverse=True)
    xs_list = xs.tolist()
    weight_x = np.bincount(x_at, weights=n, minlength=len(xs))
    log_m, mx = np.log(m), m * x
    lg, log = math.lgamma, math.log

    def ll(p: float, q: float, gamma: float) -> float:
        base = -lg(q) + q * log(gamma)
        common = [base + lg(p * v + q) - lg(p * v) + p * v * log(v) for v in xs_list]
        px = p * x
        terms = (px - 1) * log_m - (px + q) * np.log(gamma + mx)
        return float(np.dot(weight_x, common)) + float(np.dot(n, terms))

    return ll


def fit_gamma_gamma(rows: Iterable[tuple[int, float]]) -> GammaGamma:
    """Fit Gamma-Gamma to (x, mean value of the x repeat purchases), customers with x > 0
    and a positive mean only."""
    groups = _grouped((x, m) for x, m in rows if x > 0 and m > 0)
    if not groups:
        raise ValueError("no repeat customers to fit")
    if len(groups) >= ARRAYS_FROM:
        f = _positive(gamma_gamma_arrays(groups), 3)
    else:
        f = _positive(lambda p, q, g: gamma_gamma_log_likelihood(p, q, g, groups), 3)
    best, _ = nelder_mead(f, [0.0, 0.0, 0.0])
    best, value = nelder_mead(f, best, step=0.05)
    p, q, gamma = (math.exp(v) for v in best)
    return GammaGamma(p, q, gamma, -value)


def hyp2f1(a: float, b: float, c: float, z: float) -> float:
    """Gauss's hypergeometric function 2F1(a, b; c; z) for 0 <= z < 1, by its series."""
    term, total, j = 1.0, 1.0, 0
    while True:
        term *= (a + j) * (b + j) / ((c + j) * (j + 1)) * z
        total += term
        j += 1
        if abs(term) < 1e-15 * abs(total) or j > 100_000:
            return total


def _odds_dead(m: BgNbd, x: int, t_x: float, big_t: float) -> float:
    if x == 0:
        return 0.0
    return m.a / (m.b + x - 1) * ((m.alpha + big_t) / (m.alpha + t_x)) ** (m.r + x)


def p_alive(m: BgNbd, x: int, t_x: float, big_t: float) -> float:
    """The chance that a customer with this history is still active (eq. 13)."""
    return 1.0 / (1.0 + _odds_dead(m, x, t_x, big_t))


def expected_purchases(m: BgNbd, t: float, x: int, t_x: float, big_t: float) -> float:
    """Expected purchases of a customer with this history in the next t (eq. 10)."""
    if t <= 0:
        return 0.0
    r, alpha, a, b = m.r, m.alpha, m.a, m.b
    z = t / (alpha + big_t + t)
    lead = (a + b + x - 1) / (a - 1)
    tail = ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, z
    )
    return lead * (1 - tail) / (1 + _odds_dead(m, x, t_x, big_t))


def expected_value(g: GammaGamma, x: int, mean: float | None) -> float:
    """A customer's expected value per purchase: the population mean for a customer without
    repeat purchases, else shrunk from their own mean towards it (Fader and Hardie 2013)."""
    if x == 0 or mean is None:
        return g.p * g.gamma / (g.q - 1) if g.q > 1 else math.nan
    return g.p * (g.gamma + x * mean) / (g.p * x + g.q - 1)
