"""Address, postcode, SKU and item-type rules that decide whether an order may be posted."""

from decimal import Decimal

import pytest

from exceptions_app.models import ExceptionKind
from integration.address import address_check, street_reflow
from integration.carriers import shipping_method_split, track_carrier_code
from integration.postcode import postcode_is_valid_uk, postcode_normalise
from integration.skus import ItemState, LineSource, lines_expand, skus_resolve


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("sw1a1aa", "SW1A 1AA"),
        (" EC1A  1BB ", "EC1A 1BB"),
        ("m11ae", "M1 1AE"),
        ("cv21 1dz", "CV21 1DZ"),
        ("gir0aa", "GIR 0AA"),
    ],
)
def test_uk_postcodes_are_normalised_and_accepted(raw, normalised):
    assert postcode_normalise(raw) == normalised
    assert postcode_is_valid_uk(normalised)


@pytest.mark.parametrize("raw", ["12345", "SW1A", "QX1 1AA", "SW1A 1A", "", "ABC DEF"])
def test_invalid_uk_postcodes_are_refused(raw):
    assert not postcode_is_valid_uk(postcode_normalise(raw))


def test_street_lines_that_fit_are_kept_as_the_customer_wrote_them():
    assert street_reflow(["Flat 3", "12 High St"], width=35, max_lines=3) == [
        "Flat 3",
        "12 High St",
    ]


def test_a_long_street_line_is_reflowed_at_word_boundaries_without_losing_text():
    line = "Flat 14b Riverside Court Apartments 221 Upper Thames Street"
    lines = street_reflow([line], width=35, max_lines=3)
    assert lines is not None and len(lines) == 2
    assert all(len(part) <= 35 for part in lines)
    assert " ".join(lines) == line


def test_too_many_lines_are_joined_into_the_warehouse_lines():
    lines = street_reflow(["Unit 4", "Block B", "Mill Lane", "Estate"], width=35, max_lines=2)
    assert lines == ["Unit 4, Block B, Mill Lane, Estate"]


def test_a_street_that_cannot_fit_is_refused_never_cut():
    assert street_reflow(["x" * 36], width=35, max_lines=3) is None
    words = " ".join(["Longword"] * 20)
    assert street_reflow([words], width=35, max_lines=3) is None


def _address(**overrides):
    base = dict(
        firstname="Ann",
        lastname="Lee",
        company="",
        street=["1 High St"],
        city="Rugby",
        region="",
        postcode="cv21 1dz",
        country_id="GB",
        telephone="01234 567890",
        email="a@example.com",
        width=35,
        max_lines=3,
    )
    base.update(overrides)
    return address_check(**base)


def test_a_good_address_comes_back_normalised():
    address, problems = _address()
    assert problems == []
    assert address.postcode == "CV21 1DZ"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"postcode": "NOTAPOSTCODE"}, "postcode"),
        ({"telephone": ""}, "telephone"),
        ({"telephone": "n/a"}, "telephone"),
        ({"street": ["y" * 60]}, "street"),
        ({"city": ""}, "city"),
        ({"firstname": "", "lastname": ""}, "name"),
    ],
)
def test_each_broken_rule_names_its_field(overrides, field):
    address, problems = _address(**overrides)
    assert address is None
    assert [p.field for p in problems] == [field]


def _line(item_id, sku, ptype, qty, gross, tax, parent=None, discount="0"):
    return LineSource(
        item_id=item_id,
        parent_item_id=parent,
        sku=sku,
        name=sku,
        product_type=ptype,
        qty_ordered=Decimal(qty),
        price=Decimal(0),
        row_total=Decimal(gross) - Decimal(tax),
        tax_amount=Decimal(tax),
        discount_amount=Decimal(discount),
        row_total_incl_tax=Decimal(gross),
    )


def test_configurable_is_one_line_with_parent_price_and_child_sku():
    lines = lines_expand(
        [
            _line(1, "WS03-XS-Red", "configurable", 2, "58.00", "9.67"),
            _line(2, "WS03-XS-Red", "simple", 2, "0", "0", parent=1),
        ]
    )
    assert len(lines) == 1
    assert lines[0].sku == "WS03-XS-Red"
    assert lines[0].quantity == 2
    assert lines[0].net_amount == Decimal("48.33")


def test_bundle_becomes_its_components_with_their_prices():
    lines = lines_expand(
        [
            _line(1, "24-WG080-24-WG084", "bundle", 1, "0", "0"),
            _line(2, "24-WG084", "simple", 1, "12.00", "2.00", parent=1),
            _line(3, "24-WG086", "simple", 1, "24.00", "4.00", parent=1),
        ]
    )
    assert [(line.sku, line.net_amount) for line in lines] == [
        ("24-WG084", Decimal("10.00")),
        ("24-WG086", Decimal("20.00")),
    ]


def test_downloadable_items_are_sold_but_not_shipped():
    lines = lines_expand(
        [
            _line(1, "240-LV04", "downloadable", 1, "6.00", "1.00"),
            _line(2, "24-MB01", "simple", 1, "34.00", "5.67"),
        ]
    )
    assert [line.ships for line in lines] == [False, True]


def test_discount_is_taken_off_the_net_line_amount():
    (line,) = lines_expand([_line(1, "24-MB01", "simple", 2, "68.00", "10.20", discount="6.80")])
    assert line.net_amount == Decimal("51.00")
    assert line.unit_price == Decimal("25.5000")


def test_skus_resolve_through_mapping_and_report_unknown_and_inactive():
    items = {
        "24-MB01": ItemState("24-MB01", True),
        "OLD": ItemState("OLD", False),
        "LU-X": ItemState("LU-X", True),
    }
    resolved, problems = skus_resolve(
        ["24-MB01", "X", "OLD", "NOPE"], mappings={"X": "LU-X"}, items=items
    )
    assert resolved == {"24-MB01": "24-MB01", "X": "LU-X"}
    assert [(p.kind, p.sku) for p in problems] == [
        (ExceptionKind.SKU_INACTIVE, "OLD"),
        (ExceptionKind.SKU_UNKNOWN, "NOPE"),
    ]


def test_track_carrier_is_custom_unless_magento_knows_the_courier():
    assert track_carrier_code("Royal Mail") == "custom"
    assert track_carrier_code("UPS") == "ups"
    assert shipping_method_split("tablerate_bestway") == ("tablerate", "bestway")
