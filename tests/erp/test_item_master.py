"""The ERP item master over REST: codes, active flag, divergence from Magento, availability."""

from sandbox.divergence import catalogue_divergence, catalogue_rows, stocked_skus
from sandbox.erp.item_master import erp_stock

ALL = ["active", "in", [True, False]]


def find(rest, codes, *, include_inactive=False):
    domain = [["code", "in", sorted(codes)]]
    if include_inactive:
        domain.append(ALL)
    return {p["code"]: p for p in rest.search("product.product", domain, ["code", "active"])}


def test_item_master_holds_the_catalogue_minus_the_missing_skus(erp):
    divergence = catalogue_divergence()
    goods = erp.search("product.product", [ALL, ["type", "in", ["goods", "service"]]], ["code"])
    carriers = {"RM-TPN24", "RM-TPS48", "DPD-1^12", "EVRI-HOME"}
    items = {p["code"] for p in goods} - carriers
    expected = {divergence.erp_code(sku) for sku in stocked_skus()} - {None}
    assert items == expected
    assert len(items) == len(stocked_skus()) - len(divergence.missing)


def test_find_by_code_with_active_flag_and_divergence(erp):
    divergence = catalogue_divergence()
    plain = next(
        sku
        for sku in stocked_skus()
        if divergence.erp_code(sku) == sku and sku not in divergence.inactive
    )
    inactive = sorted(divergence.inactive)[0]
    missing = sorted(divergence.missing)[0]
    renamed, erp_code = sorted(divergence.renamed.items())[0]

    found = find(erp, [plain, inactive, missing, renamed, erp_code])
    # Tryton hides inactive records unless the domain asks for them.
    assert set(found) == {plain, erp_code}
    assert found[plain]["active"]

    found = find(erp, [plain, inactive, missing, renamed, erp_code], include_inactive=True)
    assert set(found) == {plain, inactive, erp_code}
    assert not found[inactive]["active"]
    assert missing not in found and renamed not in found


def test_availability_per_item_and_warehouse(erp):
    (warehouse,) = erp.search("stock.location", [["code", "=", "WH"]], ["id", "name"])
    rows = {r["sku"]: r for r in catalogue_rows() if r["type_id"] == "simple"}
    divergence = catalogue_divergence()
    usable = [
        s for s in sorted(rows) if divergence.erp_code(s) == s and s not in divergence.inactive
    ]
    differing = [s for s in usable if erp_stock(s, rows[s]["qty"]) != int(rows[s]["qty"] or 0)]
    same = [s for s in usable if erp_stock(s, rows[s]["qty"]) == int(rows[s]["qty"] or 0)]
    # Stock is not equal everywhere: some SKUs differ from Magento, most do not.
    assert 0.05 * len(usable) < len(differing) < 0.2 * len(usable)
    sample = differing[:5] + same[:3]

    products = erp.search(
        "product.product",
        [["code", "in", sample]],
        ["code", "quantity", "forecast_quantity"],
        context={"locations": [warehouse["id"]]},
    )
    by_code = {p["code"]: p for p in products}
    assert set(by_code) == set(sample)
    for sku in sample:
        assert by_code[sku]["quantity"] == erp_stock(sku, rows[sku]["qty"]), sku

    # Without a location in the context Tryton reports no quantity at all.
    (bare,) = erp.search("product.product", [["code", "=", sample[0]]], ["quantity"])
    assert bare["quantity"] == 0


def test_item_carries_what_a_sale_line_needs(erp, tryton_server):
    (item,) = erp.search(
        "product.product",
        [["code", "=", "24-MB01"]],
        ["default_uom.symbol", "account_category.customer_taxes_used", "type", "list_price_used"],
    )
    assert item["account_category"]["customer_taxes_used"] == [
        tryton_server.state["taxes"]["sale_standard"]
    ]
    assert item["default_uom"]["symbol"] == "u"
    assert item["type"] == "goods"
    assert str(item["list_price_used"]) == "28.3333"  # Luma's £34.00 shelf price without VAT
