"""The status line names the courier once and links the tracking number to its tracking page."""

import re

import pytest
from django.urls import reverse

from cx.couriers import GENERIC_SITE, tracking_link
from cx.order_path import order_path
from cx.words import courier_words
from integration.models import CarrierMapping
from tests.cx.builders import dispatch, make_order, post

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "courier,url",
    [
        ("Royal Mail Tracked 24", "https://www.royalmail.com/track-your-item#/tracking-results/"),
        ("DPD Group UK Ltd", "https://www.dpd.co.uk/apps/tracking/?reference="),
        ("DPD Next Day", "https://www.dpd.co.uk/apps/tracking/?reference="),
        ("Evri Home Delivery", "https://www.evri.com/track/parcel/"),
        ("Hermes", "https://www.evri.com/track/parcel/"),
        ("Yodel Xpress", GENERIC_SITE.url_template.split("{")[0]),
        ("", GENERIC_SITE.url_template.split("{")[0]),
    ],
)
def test_each_courier_links_to_its_own_tracking_page(courier, url):
    link = tracking_link(number="TT123456785GB", courier=courier)
    assert link.url.startswith(url)
    assert "TT123456785GB" in link.url


def test_the_tracking_number_is_url_encoded():
    link = tracking_link(number='AB 12/3#"><x', courier="Evri")
    assert link.url == "https://www.evri.com/track/parcel/AB%2012%2F3%23%22%3E%3Cx/details"


def test_no_tracking_number_no_link():
    assert tracking_link(number="  ", courier="Royal Mail") is None


@pytest.mark.parametrize(
    "courier,service,said",
    [
        ("Royal Mail", "Tracked 24", "Royal Mail Tracked 24"),
        ("Royal Mail", "Royal Mail Tracked 24", "Royal Mail Tracked 24"),
        ("Royal Mail Royal Mail Tracked 24", "", "Royal Mail Tracked 24"),
        ("royal mail", "Royal Mail Tracked 48", "Royal Mail Tracked 48"),
        ("Royal Mail Tracked 24", "Tracked 24", "Royal Mail Tracked 24"),
        ("Evri", "Home Delivery", "Evri Home Delivery"),
        ("", "DPD Next Day", "DPD Next Day"),
    ],
)
def test_the_courier_is_said_once(courier, service, said):
    assert courier_words(courier, service) == said


def test_the_status_line_links_the_tracking_number_to_the_couriers_page(client_as, db):
    order = make_order("000000601")
    dispatch(order, told=True, tracking="TT987654321GB")
    body = client_as("cx").get(reverse("cx:order_detail", args=["000000601"])).content.decode()
    start = body.index('data-testid="headline"')
    headline = body[start : body.index("</p>", start)]
    anchor = re.search(r'<a href="([^"]+)"[^>]*>TT987654321GB</a>', headline)
    assert anchor.group(1) == (
        "https://www.royalmail.com/track-your-item#/tracking-results/TT987654321GB"
    )
    assert 'rel="noopener noreferrer"' in anchor.group(0)
    assert 'target="_blank"' in anchor.group(0)
    assert "with Royal Mail Tracked 24" in headline


def test_a_doubled_courier_in_old_mappings_and_erp_text_reads_once(client_as, db):
    CarrierMapping.objects.create(
        magento_method="flatrate_flatrate", courier="Royal Mail", service="Royal Mail Tracked 24"
    )
    order = make_order("000000602")
    parcel = dispatch(order, told=False, tracking="TT555GB")
    parcel.courier = "Royal Mail Royal Mail Tracked 24"
    parcel.save()
    post(make_order("000000603"))  # not dispatched: the mapping's courier and service
    for number in ("000000602", "000000603"):
        body = client_as("cx").get(reverse("cx:order_detail", args=[number])).content.decode()
        assert "Royal Mail Royal Mail" not in body
        assert "Royal Mail Tracked 24" in body
    headline = order_path(increment_id="000000602").headline
    assert "with Royal Mail Tracked 24, tracking TT555GB" in headline


def test_a_hostile_tracking_number_is_text_in_the_link(client_as, db):
    order = make_order("000000604")
    dispatch(order, told=True, tracking="<script>x</script>")
    body = client_as("cx").get(reverse("cx:order_detail", args=["000000604"])).content.decode()
    assert "<script>x</script>" not in body
    assert "%3Cscript%3Ex%3C%2Fscript%3E" in body
