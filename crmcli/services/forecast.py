"""When will each customer buy next? From the BG/NBD fit of everyone's history (services.value),
or from the customer's own rhythm when there is too little history to fit.

With the model, for a customer with history (x, t_x, T), alive with probability P(alive):
a drop-out happens only right after a purchase, so no purchase in the next w means "dropped
out already" or "alive and no purchase", and

    P(a purchase within w) = P(alive) × (1 − ((alpha + T) / (alpha + T + w)) ^ (r + x)).

The expected next purchase is the median wait of an active customer, the w at which that
bracket is one half: (alpha + T) × (2 ^ (1 / (r + x)) − 1) after the end of the history.
Without a model the next purchase is the last one plus the customer's mean interval between
purchase days, and there is no chance to give. There is no model when the history is too
little to fit (`fallback` says which): fewer than MIN_CUSTOMERS customers, fewer than
MIN_REPEATERS who bought again, or a degenerate fit whose mean chance of dropping out after a
purchase, a / (a + b), is DEGENERATE or more: everyone gone right after buying, so a repeat
buyer has no chance (the walk: 4 customers, 1 repeat purchase, a = 2,103,331: the one repeat
buyer got a day 30 days ahead and a chance of 0,0 %).

Two estimates, each named where it is shown:
- `expected_next` (method "bgnbd" or, without a fit, "interval"): the report's forecast.
- `usual_next`: the last purchase day plus the customer's usual interval (the mean interval
  between their purchase days), for repeat buyers. It is what `crm remind` reminds of
  (services.reminders), so the call list shows the reminder's day beside the model's.
A forecast more than HORIZON_YEARS after the history's end is no date but "not expected
within HORIZON_YEARS years" (`expected_next` None, `beyond_horizon` true): the median wait
of a one-off buyer under the model is decades.

The call list is sorted by chance × expected order value; without a model (no chance to
give) by the expected next purchase, soonest first, then the order value; customers with no
forecast come last. `sorted_by` says which.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from crmcli.errors import Invalid
from crmcli.services import clv
from crmcli.services.value import contact_names, histories

_FOUR = Decimal("0.0001")


def _ratio(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_FOUR, ROUND_HALF_UP)


def _money(euros: float | None) -> Decimal | None:
    if euros is None:
        return None
    return Decimal(repr(euros * 100)).quantize(Decimal(1), ROUND_HALF_UP).scaleb(-2)


HORIZON_YEARS = 2
MIN_CUSTOMERS = 2
MIN_REPEATERS = 2
DEGENERATE = 0.99  # a / (a + b) of a fit: the customers all but certainly gone after a purchase
SORTED_BY_CHANCE = "chance × expected order value"
SORTED_BY_DAY = "expected next purchase (soonest first), then expected order value"


def usual_next(first: date, x: int, t_x_days: int) -> tuple[date, int] | None:
    """A repeat buyer's last purchase day plus their usual interval: the mean interval
    between their purchase days in whole days (rounded half up, a day at least), with the
    interval. None for a customer who bought on one day only."""
    if x <= 0:
        return None
    interval = max(1, (2 * t_x_days + x) // (2 * x))
    return first + timedelta(days=t_x_days + interval), interval


def _too_little(customers: int, repeaters: int) -> str | None:
    """Why `customers` with `repeaters` among them are too little history to fit, or None."""
    from crmcli.values import plural

    if customers < MIN_CUSTOMERS:
        return f"{plural(customers, 'customer')}, the model needs {MIN_CUSTOMERS}"
    if repeaters < MIN_REPEATERS:
        return (f"{plural(repeaters, 'customer')} bought again, the model needs "
                f"{MIN_REPEATERS}")  # fmt: skip
    return None


def next_purchases(*, until: date, within_days: int) -> dict:
    """Per customer with a purchase up to the local day `until`: the expected day of the next
    purchase, the chance of one within `within_days` after `until`, the expected order value
    and their product (the call list's order)."""
    if within_days <= 0:
        raise Invalid("within", "must be at least one day")
    people = histories(until, "weeks")
    model = spend = None
    repeaters = [h for h in people if h.x > 0]
    fallback = _too_little(len(people), len(repeaters))
    if fallback is None:
        model = clv.fit_bgnbd((h.x, h.t_x, h.T) for h in people)
        if model.a / (model.a + model.b) >= DEGENERATE:
            fallback = (f"a degenerate fit, a = {model.a:,.0f}, b = {model.b:.2g}: everyone "
                        "drops out right after a purchase")  # fmt: skip
            model = None
    if model is not None and len({h.repeat_mean for h in repeaters}) > 1:
        spend = clv.fit_gamma_gamma((h.x, h.repeat_mean or 0.0) for h in repeaters)
        if spend.q <= 1:
            spend = None
    names = contact_names([h.contact_id for h in people])
    w = within_days / 7
    rows: list[dict] = []
    horizon = until.toordinal() + round(365.25 * HORIZON_YEARS)
    for h in people:
        days = round(h.t_x * 7)
        last = h.first + timedelta(days=days)
        usual = usual_next(h.first, h.x, days)
        value = clv.expected_value(spend, h.x, h.repeat_mean) if spend else h.mean_value
        chance = next_day = None
        if model is not None:
            alive = clv.p_alive(model, h.x, h.t_x, h.T)
            base = model.alpha + h.T
            chance = alive * (1 - (base / (base + w)) ** (model.r + h.x))
            wait = base * (2 ** (1 / (model.r + h.x)) - 1)  # weeks, decades for a one-off buyer
            ordinal = until.toordinal() + max(1, round(min(wait * 7, 3_650_000.0)))
            method = "bgnbd"
        elif usual is not None:
            ordinal = usual[0].toordinal()
            method = "interval"
        else:
            ordinal, method = None, "none"
        beyond = ordinal is not None and ordinal > horizon
        if ordinal is not None and not beyond:
            next_day = date.fromordinal(ordinal)
        rows.append({
            "contact_id": h.contact_id, "contact": names.get(h.contact_id),
            "last_purchase": last, "purchases": h.x + 1, "expected_next": next_day,
            "beyond_horizon": beyond,
            "chance": None if chance is None else _ratio(chance),
            "expected_value": _money(value),
            "priority": None if chance is None or value is None else _money(chance * value),
            "method": method,
            "usual_next": None if usual is None else usual[0],
            "usual_interval_days": None if usual is None else usual[1],
        })  # fmt: skip
    if model is not None:
        rows.sort(key=lambda r: (-(r["priority"] or 0), r["expected_next"] or date.max,
                                 r["contact_id"]))  # fmt: skip
    else:
        rows.sort(key=lambda r: (r["expected_next"] is None, r["expected_next"] or date.max,
                                 -(r["expected_value"] or 0), r["contact_id"]))  # fmt: skip
    return {
        "until": until, "within_days": within_days,
        "model": None if model is None else {k: round(v, 6) for k, v in model._asdict().items()},
        "fallback": fallback,
        "horizon_years": HORIZON_YEARS,
        "sorted_by": SORTED_BY_CHANCE if model is not None else SORTED_BY_DAY,
        "rows": rows,
    }  # fmt: skip
