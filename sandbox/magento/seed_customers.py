"""Seeded customers: UK names and addresses, and the address causes their shares ask for."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from sandbox.magento.orders.spec import Party

if TYPE_CHECKING:
    from sandbox.magento.seed import Shares

FIRST_NAMES = [
    "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Noah", "Emily",
    "Charlie", "Grace", "Thomas", "Sophie", "James", "Poppy", "William", "Freya", "Arthur",
    "Lily", "Siobhan", "Rhys", "Aoife", "Callum", "Priya", "Mohammed", "Zainab", "Chidi",
    "Ewan", "Niamh", "Dylan", "Ffion", "Hamish", "Catriona", "Ravi", "Mei", "Tomasz", "Agnieszka",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
    "Thomas", "Clarke", "Jackson", "Wood", "Harris", "Edwards", "Turner", "Martin", "Cooper",
    "Hill", "Ward", "Hughes", "Khan", "Ahmed", "Okafor", "MacDonald", "Campbell", "Kowalski",
]  # fmt: skip
HOSTILE_NAMES = [
    ("<script>alert('x')</script>", "Smith"),
    ("Siobhán", "O'Brien"),
    ("Zoë", "Ångström-Nuñez"),
    ("Robert'); DROP TABLE orders;--", "Tables"),
    ("Anne-Marie", "D'Arcy-Smythe"),
    ('"Bobby"', "<b>Bold</b> & Sons"),
]
# (city, county, postcode): real, publicly listed postcodes of landmarks and public buildings.
TOWNS = [
    ("London", "Greater London", "SW1A 1AA"),
    ("London", "Greater London", "EC1A 1BB"),
    ("London", "Greater London", "W1A 1AA"),
    ("London", "Greater London", "N1 9GU"),
    ("Manchester", "Greater Manchester", "M1 1AE"),
    ("Birmingham", "West Midlands", "B1 1BB"),
    ("Leeds", "West Yorkshire", "LS1 4DY"),
    ("Glasgow", "Lanarkshire", "G1 1XQ"),
    ("Edinburgh", "Midlothian", "EH1 1YZ"),
    ("Cardiff", "South Glamorgan", "CF10 1EP"),
    ("Bristol", "Bristol", "BS1 4DJ"),
    ("Belfast", "County Antrim", "BT1 5GS"),
    ("Newcastle upon Tyne", "Tyne and Wear", "NE1 7RU"),
    ("Liverpool", "Merseyside", "L1 8JQ"),
    ("Sheffield", "South Yorkshire", "S1 2HH"),
    ("Nottingham", "Nottinghamshire", "NG1 5FS"),
    ("Brighton", "East Sussex", "BN1 1EE"),
    ("Norwich", "Norfolk", "NR2 1NH"),
    ("Aberdeen", "Aberdeenshire", "AB10 1AB"),
    ("Swansea", "West Glamorgan", "SA1 3SN"),
    ("York", "North Yorkshire", "YO1 7HH"),
    ("Oxford", "Oxfordshire", "OX1 3BG"),
    ("Cambridge", "Cambridgeshire", "CB2 1TN"),
    ("Exeter", "Devon", "EX1 1HS"),
]
STREETS = [
    "High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane", "Manor Road",
    "Park Avenue", "Queens Road", "The Crescent", "Mill Lane", "Kings Road", "North Street",
    "Albert Terrace", "Windsor Close", "Orchard Way", "Chapel Street", "Riverside Walk",
]  # fmt: skip
SECOND_LINES = ["Flat 4", "Apartment 12B", "Unit 7, Riverside Works", "2nd Floor", "Flat 1A"]
THIRD_LINES = ["Rear entrance", "Old Town", "Leave with neighbour at no. 12"]
LONG_STREET = (
    "Flat 12, The Old Granary Building, 145-147 Upper Richmond Road West, "
    "Riverside Industrial Estate Access Road (deliveries via the rear service gate)"
)
INVALID_POSTCODES = ["SW1A 1A", "ABC 123", "12345", "EC1A 1BBB", "N/A", "QQ1 1QQ"]
COMPANIES = ["Acme Widgets Ltd", "Northern Yoga Studio", "Smith & Daughters LLP"]


def customer_parties(
    rng: random.Random, shares: Shares, report_causes: list[str]
) -> tuple[Party, Party]:
    """A customer's billing and shipping parties; the causes drawn go into `report_causes`."""
    if rng.random() < shares.hostile_name:
        first, last = rng.choice(HOSTILE_NAMES)
        report_causes.append("hostile_name")
    else:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    registered = rng.random() < 0.7
    serial = rng.randrange(1, 100000)
    local = (
        "".join(ch for ch in f"{first}.{last}".lower() if ch.isalnum() or ch == ".") or "customer"
    )
    email = f"{local}{serial}@example.co.uk"
    city, county, postcode = rng.choice(TOWNS)
    if rng.random() < 0.05:
        postcode = postcode.lower().replace(" ", "")  # valid once normalised
    street = [f"{rng.randrange(1, 250)} {rng.choice(STREETS)}"]
    if rng.random() < 0.3:
        street.insert(0, rng.choice(SECOND_LINES))
    if rng.random() < 0.05:
        street.append(rng.choice(THIRD_LINES))
    phone: str | None = f"07700 900{rng.randrange(0, 1000):03d}"
    company = rng.choice(COMPANIES) if rng.random() < 0.1 else None
    customer_id = (serial % 5000) + 1 if registered else None
    billing = Party(first, last, email, customer_id, list(street), city, county, postcode, phone,
                    company)  # fmt: skip
    shipping = Party(first, last, email, customer_id, list(street), city, county, postcode, phone,
                     company)  # fmt: skip
    if rng.random() < shares.invalid_postcode:
        shipping.postcode = rng.choice(INVALID_POSTCODES)
        report_causes.append("invalid_postcode")
    if rng.random() < shares.long_street:
        shipping.street = [LONG_STREET]
        report_causes.append("long_street")
    if rng.random() < shares.missing_phone:
        shipping.telephone = None
        billing.telephone = None
        report_causes.append("missing_phone")
    return billing, shipping
