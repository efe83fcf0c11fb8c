"""factory-boy factories shared by the suite."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs) -> None:
        if create and extracted:
            self.groups.set([Group.objects.get_or_create(name=name)[0] for name in extracted])
        if create:
            self.save()


# --- exceptions (exceptions_app) ---------------------------------------------------------


class DeskExceptionFactory(factory.django.DjangoModelFactory):
    """An open exception; for raise/bump behaviour call exceptions_app.services instead."""

    class Meta:
        model = "exceptions_app.DeskException"

    kind = "sku_unknown"
    subject = factory.Sequence(lambda n: f"MH{n:02d}-XS-Black")
    fingerprint = factory.LazyAttribute(lambda e: f"{e.kind}:{e.subject}")
    sku = factory.LazyAttribute(lambda e: e.subject if e.kind.startswith("sku") else "")
    system = "erp"
    team = "ops"
    severity = "high"
    blocks = "order"
    message = factory.LazyAttribute(lambda e: f"SKU {e.subject} is not in the ERP item master")
    sla_due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=4))


class ErpItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "integration.ErpItem"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ITEM-{n:04d}")
    name = factory.LazyAttribute(lambda i: f"Item {i.code}")
    active = True


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "integration.Order"

    entity_id = factory.Sequence(lambda n: 1000 + n)
    increment_id = factory.Sequence(lambda n: f"{100000001 + n}")
    state = "processing"
    status = "processing"
    currency_code = "GBP"
    subtotal = Decimal("45.00")
    grand_total = Decimal("54.00")
    magento_created_at = factory.LazyFunction(timezone.now)
    magento_updated_at = factory.LazyFunction(timezone.now)
    payload = factory.LazyAttribute(lambda o: {"increment_id": o.increment_id})


# --- order mirror rows (integration), for the CX screens -----------------------------------


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "integration.OrderLine"

    order = factory.SubFactory(OrderFactory)
    item_id = factory.Sequence(lambda n: 5000 + n)
    sku = "24-MB01"
    name = "Joust Duffle Bag"
    product_type = "simple"
    qty_ordered = Decimal("1")
    price = Decimal("34.00")
    row_total = Decimal("34.00")
    row_total_incl_tax = Decimal("40.80")


class OrderAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "integration.OrderAddress"

    order = factory.SubFactory(OrderFactory)
    address_type = "shipping"
    firstname = factory.LazyAttribute(lambda a: a.order.customer_firstname or "Jane")
    lastname = factory.LazyAttribute(lambda a: a.order.customer_lastname or "Smith")
    street = factory.LazyFunction(lambda: ["10 Downing Street"])
    city = "London"
    postcode = "SW1A 2AA"
    country_id = "GB"
    telephone = "020 7946 0000"


class OrderHoldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "integration.OrderHold"

    order = factory.SubFactory(OrderFactory)
    kind = "address_invalid"
    subject = factory.LazyAttribute(lambda h: h.order.increment_id)
    field = "postcode"
    message = factory.LazyAttribute(lambda h: f"Order {h.order.increment_id} address problem")


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "integration.Shipment"

    erp_shipment_id = factory.Sequence(lambda n: f"{700 + n}")
    order = factory.SubFactory(OrderFactory)
    erp_state = "done"
    dispatched_at = factory.LazyFunction(timezone.now)
    tracking_number = factory.Sequence(lambda n: f"TT{n:09d}GB")
    courier = "Royal Mail Tracked 24"
