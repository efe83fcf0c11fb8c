"""How fast does customer service find an order among 100,000 on PostgreSQL?

    .venv/bin/python bench/cx_bench.py                          # starts a throw-away PostgreSQL
    DATABASE_URL=postgres://... .venv/bin/python bench/cx_bench.py   # uses a test_ copy
    BENCH_ORDERS=1000000 .venv/bin/python bench/cx_bench.py     # the scale issue's figure

Creates a test database (dropped at the end), bulk-creates the orders and their two addresses
with `bulk_create` (UK names drawn so that common surnames are common, postcodes stored the
ways stores store them: spaced, squashed, lower case, doubled spaces; a store prefix on a
fifth of the order numbers), ANALYZEs, then times a lookup as the page makes it: the search,
its first page of 25 rows, and their table columns (`order_rows_annotate`), for numbers typed
without their zeros or prefix, emails, postcodes typed differently from how they are stored,
and surnames. Prints one JSON line per figure: name, value, unit, goal, ok.
"""

import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDERS = int(os.environ.get("BENCH_ORDERS", "100000"))
LOOKUPS = int(os.environ.get("BENCH_LOOKUPS", "200"))
GOAL_MS = 50.0
BATCH = 5000


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Common UK surnames first (the draw below makes the first ones the most frequent).
SURNAMES = _words(
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan "
    "Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly "
    "Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall "
    "Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray "
    "Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd "
    "Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Ahmed "
    "Fletcher Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds Saunders Payne Fox "
    "Ford Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer Gill Dawson Ball Burton "
    "O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes Hart Hudson "
    "Newman Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods Parsons Berry "
    "Stone Reid Holland Hawkins Harding Porter Robertson Newton Oliver Reed Kennedy Williamson "
    "Bird Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop Walton Burns Nicholson "
    "Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald Yates Hodgson "
    "Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss McCarthy Chambers O'Neill Griffin "
    "Sharp Hardy Wheeler Potter Osborne Johnston Gordon Doyle Wallace George Jordan Hutchinson "
    "Rowe Burke May Pritchard Gilbert Willis Higgins Read Miles Stevenson Stephenson Hammond "
    "Arnold Buckley Walters Hewitt Barber Nelson Slater Austin Sullivan Whitehead Mann Frost "
    "Lambert Stephens Blake Akhtar Lynch Goodwin Barton Woodward Thomson Cunningham Quinn Barnett "
    "Baxter Bibi Clayton Nash Greenwood Jennings Holt Kemp Poole Gallagher Bond Stokes Tucker "
    "Davidson Fowler Heath Norman Middleton Lawson Banks French Stanley Jarvis Gibbs Ferguson "
    "Hayward Carroll Douglas Dickinson Todd Barlow Peters Lucas Knowles Hartley Miah Simmons "
    "Morton Alexander Field Morrison Smith-Jones Fitzgerald Kowalski Nowak Rahman Begum-Ali"
)
FIRST_NAMES = _words(
    "Oliver George Harry Noah Jack Leo Arthur Muhammad Oscar Charlie Jacob Thomas Henry William "
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Willow Emily Siobhan "
    "Aoife Priya Amira Chidimma Dmitri Seán Zoë Mary-Jane Jo Ana Noor Liam Tom Eleanor Jane"
)
AREAS = _words("SW1A EC1A W1A M1 B1 LS1 EH1 CF10 BT48 G2 NE1 L1 BS1 NG1 S1 CB2 OX1 YO1 PL1 EX4")
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        script = [sys.executable, str(ROOT / "scripts" / "with_postgres.py"), "--"]
        sys.exit(subprocess.call([*script, sys.executable, __file__], cwd=ROOT))
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        print(f"# database: PostgreSQL {connection.pg_version} ({test_db})", file=sys.stderr)
        started = time.perf_counter()
        samples = _seed(ORDERS, random.Random(12))  # noqa: S311 - test data, not secrets
        print(f"# seeded {ORDERS} orders in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        _measure(samples, random.Random(34))  # noqa: S311
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


def _postcode(rng: random.Random) -> str:
    inward = f"{rng.randint(1, 9)}{rng.choice(LETTERS)}{rng.choice(LETTERS)}"
    return f"{rng.choice(AREAS)} {inward}"


def _stored(postcode: str, rng: random.Random) -> str:
    """A postcode as stores store it: mostly Royal Mail's form, sometimes not."""
    odd = [postcode.replace(" ", ""), postcode.lower(), postcode.replace(" ", "  ")]
    return rng.choice([postcode] * 6 + odd + [postcode.title()])


def _seed(count: int, rng: random.Random) -> dict[str, list[str]]:
    from django.db import connection
    from django.utils import timezone

    from integration.models import Order, OrderAddress

    now = timezone.now()
    # Zipf-like with an offset: the commonest surname on ~1.7% of orders (Smith: ~1.3% in the UK).
    weights = [1 / (rank + 20) for rank in range(len(SURNAMES))]
    samples: dict[str, list[str]] = {"number": [], "email": [], "postcode": [], "surname": []}
    for start in range(0, count, BATCH):
        orders, addresses = [], []
        for n in range(start, min(start + BATCH, count)):
            first = rng.choice(FIRST_NAMES)
            last = rng.choices(SURNAMES, weights)[0]
            prefix = "EU-" if n % 5 == 0 else ""
            number = f"{prefix}{n + 1:09d}"
            email = f"{first}.{last}.{n}@example.test".lower().replace("'", "")
            placed = now - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
            orders.append(
                Order(
                    entity_id=n + 1,
                    increment_id=number,
                    state="processing",
                    status="processing",
                    customer_email=email if n % 3 else email.title(),
                    customer_firstname=first,
                    customer_lastname=last,
                    currency_code="GBP",
                    subtotal=Decimal("45.00"),
                    grand_total=Decimal("54.00"),
                    magento_created_at=placed,
                    magento_updated_at=placed,
                    first_seen_at=placed,
                    payload={"increment_id": number},
                )
            )
            shipping = _postcode(rng)
            billing = shipping if rng.random() < 0.8 else _postcode(rng)
            addresses.append((n + 1, "shipping", first, last, _stored(shipping, rng)))
            addresses.append((n + 1, "billing", first, last, _stored(billing, rng)))
            if rng.random() < LOOKUPS * 2 / count:
                samples["number"].append(str(n + 1) if not prefix else f"{prefix}{n + 1}")
                samples["email"].append(email.upper() if n % 2 else email)
                samples["postcode"].append(shipping.replace(" ", "").lower())
                samples["surname"].append(last.lower())
        created = Order.objects.bulk_create(orders, batch_size=BATCH)
        pk_of = {order.entity_id: order.pk for order in created}
        OrderAddress.objects.bulk_create(
            [
                OrderAddress(
                    order_id=pk_of[entity],
                    address_type=kind,
                    firstname=first,
                    lastname=last,
                    street=["1 High Street"],
                    city="Town",
                    postcode=postcode,
                    country_id="GB",
                )
                for entity, kind, first, last, postcode in addresses
            ],
            batch_size=BATCH,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {key: values[:LOOKUPS] for key, values in samples.items()}


def _lookup(query: str) -> int:
    from cx.selectors import order_rows_annotate, order_search

    search = order_search(query=query)
    page = list(search.orders[:25])
    order_rows_annotate(page)
    return len(page)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _plan_has_no_full_scan(query: str) -> bool:
    from cx.selectors import order_search

    text = order_search(query=query).orders[:25].explain()
    return "Seq Scan" not in text


def _measure(samples: dict[str, list[str]], rng: random.Random) -> None:
    for key, queries in samples.items():
        for query in queries[:20]:  # warm the caches the way a working day does
            _lookup(query)
        timings, found = [], 0
        for query in rng.sample(queries, len(queries)):
            started = time.perf_counter()
            found += bool(_lookup(query))
            timings.append((time.perf_counter() - started) * 1000)
        p95 = _p95(timings)
        _emit(f"cx_lookup_p95_{key}_{ORDERS}_orders", p95, "ms", GOAL_MS, p95 < GOAL_MS)
        _emit(
            f"cx_lookup_median_{key}_{ORDERS}_orders",
            statistics.median(timings),
            "ms",
            GOAL_MS,
            statistics.median(timings) < GOAL_MS,
        )
        _emit(f"cx_lookup_found_{key}", found / len(queries), "share", 1.0, found == len(queries))
        no_scan = all(_plan_has_no_full_scan(q) for q in queries[:10])
        _emit(f"cx_lookup_no_full_scan_{key}", float(no_scan), "bool", 1.0, no_scan)


def _emit(name: str, value: float, unit: str, goal: float, ok: bool) -> None:
    record = {"name": name, "value": round(value, 3), "unit": unit, "goal": goal, "ok": ok}
    print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
