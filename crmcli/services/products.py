"""Products: the catalogue orders are made of. Prices are net, in cents; VAT rates in basis
points (1900 = 19 %). A product is never deleted once sold (its order lines keep it): it is
made inactive instead, and an inactive product cannot be ordered."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from crmcli.errors import Conflict, Invalid, NotFound
from crmcli.models import Product, database_proxy, utcnow
from crmcli.services import limits

# Germany's rates: standard, reduced, none. Any other rate from 0 to 100 % may be given.
VAT_RATES_BP = (1900, 700, 0)
MAX_VAT_BP = 10_000
EDITABLE = ("sku", "name", "category", "price_cents", "vat_bp", "unit", "active", "cost_cents")
SORTS = {
    "sku": (Product.sku_key,),
    "name": (Product.name, Product.id),
    "category": (Product.category, Product.name, Product.id),
    "price": (Product.price_cents, Product.id),
    "id": (Product.id,),
}
_COLUMNS = (
    Product.id, Product.sku, Product.name, Product.category, Product.price_cents,
    Product.vat_bp, Product.unit, Product.active, Product.created_at, Product.updated_at,
    Product.cost_cents,
)  # fmt: skip


def sku_key(sku: str) -> str:
    return sku.strip().upper()


def _row(values: tuple) -> dict:
    pid, sku, name, category, cents, vat_bp, unit, active, created, updated, cost = values
    return {
        "id": pid, "sku": sku, "name": name, "category": category,
        "price": Decimal(cents).scaleb(-2), "vat_rate": Decimal(vat_bp).scaleb(-2),
        "vat_bp": vat_bp, "unit": unit, "active": bool(active),
        "cost": None if cost is None else Decimal(cost).scaleb(-2),
        "margin": None if cost is None else Decimal(cents - cost).scaleb(-2),
        "created_at": created, "updated_at": updated,
    }  # fmt: skip


def _clean(values: dict) -> dict:
    """Checked values of a product's fields (Invalid names the first bad one)."""
    out: dict = {}
    for key, value in values.items():
        if key == "sku":
            sku = (value or "").strip()
            if not sku or any(ch.isspace() or ch == ":" for ch in sku):
                raise Invalid("sku", f"'{value}' is no SKU: one word without spaces or ':'")
            out["sku"], out["sku_key"] = limits.check("sku", sku), sku_key(sku)
        elif key == "name":
            name = (value or "").strip()
            if not name:
                raise Invalid("name", "a product needs a name")
            out["name"] = limits.check("name", name)
        elif key in ("category", "unit"):
            text = (value or "").strip() or None
            if key == "unit" and text is None:
                raise Invalid("unit", "a product needs a unit (Stück, kg, h, ...)")
            out[key] = limits.check(key, text)
        elif key == "price_cents":
            if value < 0:
                raise Invalid("price", "a net price is 0 or more")
            out[key] = value
        elif key == "cost_cents":
            if value is not None and value < 0:
                raise Invalid("cost", "a purchase price is 0 or more")
            out[key] = value
        elif key == "vat_bp":
            if not 0 <= value <= MAX_VAT_BP:
                raise Invalid("vat", "a VAT rate is from 0 to 100 %")
            out[key] = value
        elif key == "active":
            out[key] = bool(value)
        else:
            raise KeyError(key)
    return out


def add_product(
    sku: str,
    name: str,
    *,
    price_cents: int,
    vat_bp: int = VAT_RATES_BP[0],
    category: str | None = None,
    unit: str = "Stück",
    active: bool = True,
    cost_cents: int | None = None,
    now: datetime | None = None,
) -> dict:
    """Add a product to the catalogue; a SKU is unique, whatever its case. `cost_cents`: the
    net purchase price (None: unknown)."""
    now = now or utcnow()
    row = _clean(
        dict(sku=sku, name=name, price_cents=price_cents, vat_bp=vat_bp, category=category,
             unit=unit, active=active, cost_cents=cost_cents)
    )  # fmt: skip
    with database_proxy.atomic():
        if Product.select().where(Product.sku_key == row["sku_key"]).exists():
            raise Conflict(f"a product with SKU '{row['sku']}' exists already")
        pid = Product.insert(**row, created_at=now, updated_at=now).execute()
    return get_product(pid)


def get_product(product_id: int) -> dict:
    found = Product.select(*_COLUMNS).where(Product.id == product_id).tuples().first()
    if found is None:
        raise NotFound(f"no product with id {product_id}")
    return _row(found)


def resolve_product(ref: str) -> int:
    """The id of the product REF names: its SKU (any case), else its id."""
    text = ref.strip().removeprefix("#")
    found = Product.select(Product.id).where(Product.sku_key == sku_key(ref)).scalar()
    if found is None and text.isdigit():
        found = Product.select(Product.id).where(Product.id == int(text)).scalar()
    if found is None:
        raise NotFound(f"no product with SKU or id '{ref}'")
    return found


def products_by_sku(skus: Iterable[str]) -> dict[str, dict]:
    """The products with these SKUs, by SKU key (one query; unknown SKUs are left out)."""
    keys = sorted({sku_key(s) for s in skus})
    if not keys:
        return {}
    rows = Product.select(*_COLUMNS).where(Product.sku_key.in_(keys)).tuples()
    return {sku_key(r[1]): _row(r) for r in rows}


def edit_product(product_id: int, changes: dict, *, now: datetime | None = None) -> dict:
    """Change a product's fields (EDITABLE); orders already made keep their prices."""
    get_product(product_id)
    row = _clean(changes)
    if not row:
        raise Invalid(None, "nothing to change")
    with database_proxy.atomic():
        if "sku_key" in row:
            taken = Product.select(Product.id).where(
                (Product.sku_key == row["sku_key"]) & (Product.id != product_id)
            )
            if taken.exists():
                raise Conflict(f"a product with SKU '{row['sku']}' exists already")
        Product.update(**row, updated_at=now or utcnow()).where(Product.id == product_id).execute()
    return get_product(product_id)


def list_products(
    *, category: str | None = None, active: bool | None = None, sort: str = "sku"
) -> list[dict]:
    """The catalogue, filtered by category (case-insensitive) and active flag."""
    from peewee import fn

    desc = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORTS:
        raise Invalid("sort", f"'{sort}' is not one of {', '.join(SORTS)}")
    query = Product.select(*_COLUMNS)
    if category is not None:
        query = query.where(fn.LOWER(Product.category) == category.strip().lower())
    if active is not None:
        query = query.where(Product.active == active)
    order = [f.desc() if desc else f for f in SORTS[key]]
    return [_row(r) for r in query.order_by(*order).tuples()]
