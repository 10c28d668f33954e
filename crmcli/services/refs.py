"""REF resolution: a numeric id, an exact email, or a unique accent- and case-insensitive name
fragment. Shared by every kind of record so the rule is written once."""

from __future__ import annotations

import itertools
import re

from crmcli.errors import Ambiguous, Candidate, Invalid, NotFound
from crmcli.services import prepared
from crmcli.values import email_spellings, fold, fold_variants

MAX_CANDIDATES = 10
# Ids are 64-bit signed integers on SQLite and PostgreSQL alike: a bigger number names nothing.
MAX_ID = 2**63 - 1


def is_id(ref: str) -> bool:
    """Whether `ref` is written as an id: digits (ASCII only), optionally after `#`."""
    text = (ref or "").strip().removeprefix("#")
    return text.isascii() and text.isdigit()


def parse_id(ref: str, *, kind: str) -> int:
    """The id `ref` is written as (`12`, `#12`); NotFound for one that cannot exist (too big
    for any id), Invalid for something that is no id."""
    text = (ref or "").strip().removeprefix("#")
    if not (text.isascii() and text.isdigit()):
        raise Invalid(kind, f"'{ref}' is not an id")
    number = int(text)
    if number > MAX_ID:
        raise NotFound(f"no {kind} with id {text}")
    return number


def name_forms(text: str) -> tuple[str, str]:
    """The two folds a name is compared under, as the search index holds it
    (values.fold_variants): umlauts reduced and expanded. `Jürgen Müller` -> (`jurgen muller`,
    `juergen mueller`); a name without umlauts has one form twice."""
    plain = fold(text)
    both = fold_variants(text)
    return plain, (both[len(plain) + 3 :] if both != plain else plain)


def same_name(a: str, b: str) -> bool:
    """Whether two names are the same as crm compares names: equal with umlauts reduced
    (Müller = Muller) or with them expanded (Müller = Mueller); ß is ss, case and accents
    aside. Only an umlaut is rewritten, never the letters `ue`: Bauer is not Baur, and so
    Mueller is not Muller either (only Müller is both)."""
    (plain_a, german_a), (plain_b, german_b) = name_forms(a), name_forms(b)
    return plain_a == plain_b or german_a == german_b


_TRANSLITERATION = re.compile(r"[aou]e")
MAX_SPELLINGS = 256


def plain_forms(text: str) -> set[str] | None:
    """Every reduced form (`name_forms(...)[0]`) that a name the same as `text` can have, for
    an indexed lookup; None when there are too many to list (a name full of ae/oe/ue).
    A name the same by its expanded form has that form with some of its ae/oe/ue reduced:
    those that were umlauts."""
    plain, german = name_forms(text)
    spots = [m.start() for m in _TRANSLITERATION.finditer(german)]
    if 2 ** len(spots) > MAX_SPELLINGS:
        return None
    out = {plain}
    for chosen in itertools.product((False, True), repeat=len(spots)):
        cut = {at + 1 for at, drop in zip(spots, chosen, strict=True) if drop}
        out.add("".join(ch for i, ch in enumerate(german) if i not in cut))
    return out


def resolve(
    model, ref: str, *, kind: str, describe=None, by_email=None, merged: bool = False
) -> int:
    """The id of the one `model` row that `ref` names; NotFound or Ambiguous otherwise.

    `model` needs `name_key` (fold_variants of its name); an `email_key` column enables email
    refs, or `by_email` (lower-cased email -> id or None) when the emails live elsewhere.
    `merged`: an id merged away (merge_alias of this `kind`) names its survivor.
    """
    text = (ref or "").strip()
    if not text:
        raise Invalid(kind, "an empty reference names nothing")
    if is_id(text):
        number = parse_id(text, kind=kind)
        found = model.select(model.id).where(model.id == number).scalar()
        if found is None and merged:
            alive = survivor(kind, number)  # the survivor may have been deleted since
            if alive is not None:
                found = model.select(model.id).where(model.id == alive).scalar()
        if found is None:
            raise NotFound(f"no {kind} with id {number}", kind=kind, ref=text)
        return found
    if "@" in text and by_email is not None:
        found = by_email(text.lower())
        if found is None:
            raise NotFound(f"no {kind} with email {text}", kind=kind, ref=text)
        return found
    if "@" in text and hasattr(model, "email_key"):
        keys = email_spellings(text)  # an IDN domain in its Unicode or punycode spelling
        if len(keys) == 1:
            rows = prepared.run(
                f"{kind}_by_email", lambda e: model.select(model.id).where(model.email_key == e),
                keys[0],
            )  # fmt: skip
        else:
            query = model.select(model.id).where(model.email_key.in_(keys))
            rows = list(query.order_by(model.id).limit(1).tuples())
        found = rows[0][0] if rows else None
        if found is None:
            raise NotFound(f"no {kind} with email {text}", kind=kind, ref=text)
        return found

    # A name that equals the REF (as names compare) names one record even where others contain
    # it: asked first, through the name_key index, since most REFs are a whole name.
    describe = describe or _describe_default(model)
    first = MAX_CANDIDATES + 1  # one more than is listed says that there are more
    plain, german = name_forms(text)
    spellings = exact_keys(text)
    if spellings is not None:
        equal = model.name_key.in_(sorted(spellings))
    else:
        equal = (model.name_key == plain) | model.name_key.startswith(f"{plain} | ")
        equal |= (model.name_key == german) | model.name_key.endswith(f" | {german}")
    order = (model.name_key, model.id)
    exact_query = model.select(model.id).where(equal).order_by(*order).limit(first)
    exact = [row[0] for row in exact_query.tuples()]
    if len(exact) == 1:
        return exact[0]
    if exact:  # namesakes: they are the candidates (others that contain the name are not)
        raise Ambiguous(kind, text, describe(exact[:MAX_CANDIDATES]), _total(exact))
    # name_key holds both forms of the name (see name_forms): a fragment in either form of the
    # name matches, so müller finds Mueller and mueller finds Müller, but baur not Bauer.
    # One substring scan when the fragment has no umlaut (most do not): twice the work else.
    contains = model.name_key.contains(plain)
    if german != plain:
        contains |= model.name_key.contains(german)
    query = model.select(model.id).where(contains).order_by(*order).limit(first)
    ids = [row[0] for row in query.tuples()]
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise NotFound(f"no {kind} matches '{text}'", kind=kind, ref=text)
    # Not counted past the candidates: thousands of Müllers would cost a read of each.
    raise Ambiguous(kind, text, describe(ids[:MAX_CANDIDATES]), _total(ids))


def _total(ids: list[int]) -> int | None:
    """How many match, when the candidates are all of them; None: more than are listed."""
    return len(ids) if len(ids) <= MAX_CANDIDATES else None


def exact_keys(text: str) -> set[str] | None:
    """Every name_key (values.fold_variants) of a name that is the same as `text` (same_name),
    for an indexed look-up; None when there are too many spellings to list. A name without
    umlauts has its one form as key; one with umlauts "plain | german", where either form
    equals the REF's: its plain form with some of a/o/u expanded to ae/oe/ue (those that were
    umlauts), or its German form with some of ae/oe/ue reduced (plain_forms)."""
    plain, german = name_forms(text)
    reduced = plain_forms(text)
    spots = [i for i, ch in enumerate(plain) if ch in "aou"]
    if reduced is None or 2 ** len(spots) > MAX_SPELLINGS:
        return None
    keys = {plain, german} | {f"{form} | {german}" for form in reduced}
    for chosen in itertools.product((False, True), repeat=len(spots)):
        expand = {at for at, pick in zip(spots, chosen, strict=True) if pick}
        spelled = "".join(ch + "e" if i in expand else ch for i, ch in enumerate(plain))
        keys.add(f"{plain} | {spelled}")
    return keys


# How many merges deep an old id is followed (a survivor merged away again, and so on).
MAX_MERGE_HOPS = 20


def last_merge() -> tuple[str, int] | None:
    """The kind and the merged-away id of the latest merge, None before any."""
    from crmcli.models import MergeAlias

    last = MergeAlias.select().order_by(MergeAlias.merged_at.desc()).first()
    return None if last is None else (last.kind, last.old_id)


def survivor(kind: str, old_id: int) -> int | None:
    """The id a contact or company merged away (`crm merge`) lives on as, following merges
    of the survivor too; None when `old_id` was never merged away."""
    from crmcli.models import MergeAlias

    found = None
    for _ in range(MAX_MERGE_HOPS):
        new = (
            MergeAlias.select(MergeAlias.new_id)
            .where((MergeAlias.kind == kind) & (MergeAlias.old_id == old_id))
            .scalar()
        )
        if new is None or new == old_id:
            break
        found = old_id = new
    return found


def refuse_merged(kind: str, ref: str, found: int, *, doing: str) -> None:
    """Refuse a destructive change (`doing`: "delete", "merge") to a record named by an id
    that was merged away: the REF resolved to its survivor, which the user did not name. A
    script deleting stored ids must not delete the record another one was merged into."""
    if not is_id(ref):
        return
    given = parse_id(ref, kind=kind)
    if given != found:
        raise Invalid(
            None, f"{kind} #{given} was already merged into #{found}; name #{found} to {doing} it"
        )


def _describe_default(model):
    def describe(ids: list[int]) -> list[Candidate]:
        rows = model.select(model.id, model.name).where(model.id.in_(ids)).order_by(model.name_key)
        return [Candidate(r.id, r.name) for r in rows]

    return describe
