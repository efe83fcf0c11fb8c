"""Plain words for customer service: what Magento's codes, the ERP's states and the desk's holds
mean, phrased so an agent can read them to a customer.

Codes not listed fall back to a readable form of the code itself, never to a blank.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.utils import dateformat, timezone

from exceptions_app.models import ExceptionKind, Team

# Magento 2 order statuses (sales_order_status) as the store's customers would say them.
MAGENTO_STATUS: dict[str, str] = {
    "pending": "Pending (not paid yet)",
    "pending_payment": "Awaiting payment",
    "payment_review": "Payment under review",
    "fraud": "Suspected fraud",
    "processing": "Processing",
    "holded": "On hold in Magento",
    "complete": "Complete (shipped)",
    "closed": "Closed (refunded)",
    "canceled": "Cancelled",
}

# Why the desk does not send an order in a given Magento state to the ERP.
SKIPPED_BECAUSE: dict[str, str] = {
    "new": "it has not been paid yet",
    "pending_payment": "it has not been paid yet",
    "payment_review": "the payment is still being reviewed",
    "holded": "someone put it on hold in Magento's admin",
    "canceled": "it was cancelled in Magento",
    "closed": "it was refunded and closed in Magento",
}

PAYMENT_METHOD: dict[str, str] = {
    "braintree": "card (Braintree)",
    "braintree_paypal": "PayPal (Braintree)",
    "paypal_express": "PayPal Express Checkout",
    "checkmo": "cheque / money order",
    "banktransfer": "bank transfer",
    "cashondelivery": "cash on delivery",
    "purchaseorder": "purchase order",
    "free": "nothing to pay (free order)",
    "stripe_payments": "card (Stripe)",
}

# Tryton customer shipment states (stock.shipment.out).
SHIPMENT_STATE: dict[str, str] = {
    "draft": "being prepared by the warehouse",
    "waiting": "waiting for stock in the warehouse",
    "assigned": "stock reserved, waiting to be picked",
    "picked": "picked, being packed",
    "packed": "packed, waiting for the courier",
    "done": "dispatched",
    "cancelled": "cancelled by the warehouse",
}

TEAM_FIXING: dict[str, str] = {
    Team.CX: "customer service is fixing it",
    Team.OPS: "the operations team is fixing it",
    Team.FINANCE: "the finance team is looking at it",
}

# What an exception that neither holds the order nor names an address means for the order.
EXCEPTION_MEANS: dict[str, str] = {
    ExceptionKind.STATUS_DRIFT: (
        "the warehouse dispatched the order but Magento has not been told, so the customer "
        "has no tracking details yet"
    ),
    ExceptionKind.ORDER_STUCK: "the order has not moved on within its time limit",
    ExceptionKind.CANCEL_AFTER_DISPATCH: (
        "it was cancelled after the warehouse had started on it, so its parcel is being stopped"
    ),
    ExceptionKind.HOLD_AFTER_POSTING: (
        "it was put on hold in Magento after it reached the warehouse, so its parcel is held back"
    ),
    ExceptionKind.TAX_VARIANCE: (
        "the tax differs between Magento and the ERP (a finance matter; it does not delay delivery)"
    ),
    ExceptionKind.TOTAL_VARIANCE: (
        "the total differs between Magento and the ERP (a finance matter; it does not delay "
        "delivery)"
    ),
    ExceptionKind.SETTLEMENT_MISMATCH: (
        "the payment provider's settlement differs from what was charged (a finance matter)"
    ),
    ExceptionKind.REFUND_POST_FAILED: (
        "the refund is not in the ERP's books yet (a finance matter; the customer has been "
        "refunded)"
    ),
}

# The button on a blocked step that opens the exception, by what its owner does there.
EXCEPTION_ACTION: dict[str, str] = {
    ExceptionKind.ADDRESS_INVALID: "Correct the address",
    ExceptionKind.STATUS_DRIFT: "Send the shipment to Magento",
    ExceptionKind.CANCEL_AFTER_DISPATCH: "See which parcel to stop",
    ExceptionKind.HOLD_AFTER_POSTING: "See which parcel to hold",
}

# address_invalid names the fields that break the warehouse's rules.
ADDRESS_FIELD_PROBLEM: dict[str, str] = {
    "postcode": "a postcode the warehouse cannot use",
    "telephone": "no usable phone number (the courier needs one)",
    "street": "a street that is missing or too long for the parcel label",
    "city": "a town that is missing or too long for the parcel label",
    "name": "no recipient name",
    "country_id": "no country",
}

CURRENCY_SYMBOL = {"GBP": "£", "EUR": "€", "USD": "$"}

# The countries a UK store mostly ships to; others show their ISO code.
COUNTRY = {
    "GB": "United Kingdom",
    "UK": "United Kingdom",
    "IE": "Ireland",
    "JE": "Jersey",
    "GG": "Guernsey",
    "IM": "Isle of Man",
    "FR": "France",
    "DE": "Germany",
    "NL": "Netherlands",
    "ES": "Spain",
    "US": "United States",
}


def country_words(code: str) -> str:
    code = (code or "").strip().upper()
    return COUNTRY.get(code, code)


def humanise_code(code: str) -> str:
    return (code or "").replace("_", " ").strip().capitalize() or "—"


def magento_status_words(status: str) -> str:
    return MAGENTO_STATUS.get(status, humanise_code(status))


def payment_words(method: str) -> str:
    return PAYMENT_METHOD.get(method, humanise_code(method).lower() if method else "not recorded")


def shipment_state_words(state: str) -> str:
    return SHIPMENT_STATE.get(state, humanise_code(state).lower())


def team_fixing(team: str) -> str:
    return TEAM_FIXING.get(team, "the desk is looking at it")


def exception_action(kind: str) -> str:
    return EXCEPTION_ACTION.get(kind, "Open the problem")


def _said_once(text: str) -> str:
    """Text with a run of words that repeats at once said once: "Royal Mail Royal Mail
    Tracked 24" → "Royal Mail Tracked 24" (ERP carrier names often carry the company twice)."""
    tokens = text.split()
    folded = [t.casefold() for t in tokens]
    i = 0
    while i < len(tokens):
        for n in range((len(tokens) - i) // 2, 0, -1):
            if folded[i : i + n] == folded[i + n : i + 2 * n]:
                del tokens[i : i + n], folded[i : i + n]
                break
        else:
            i += 1
    return " ".join(tokens)


def courier_words(courier: str, service: str) -> str:
    """The courier and its service as said aloud, the courier named once: ("Royal Mail",
    "Tracked 24") and ("Royal Mail", "Royal Mail Tracked 24") both say "Royal Mail Tracked 24"."""
    courier, service = (courier or "").strip(), (service or "").strip()
    if not courier or service.casefold().startswith(courier.casefold()):
        return _said_once(service)
    if not service or courier.casefold().endswith(service.casefold()):
        return _said_once(courier)
    return _said_once(f"{courier} {service}")


def money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return "—"
    symbol = CURRENCY_SYMBOL.get(currency)
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {currency}".strip()


def day(moment: datetime | None) -> str:
    """The date as an agent would say it ("24 Nov 2025"), in the desk's time zone."""
    if moment is None:
        return ""
    return dateformat.format(timezone.localtime(moment), "j M Y")


def day_and_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return dateformat.format(timezone.localtime(moment), "j M Y, H:i")


def address_problem(fields: Iterable[str]) -> str:
    """The address problems as one phrase: "the shipping address has a postcode … and …"."""
    phrases = [
        ADDRESS_FIELD_PROBLEM.get(f.strip(), f"a problem with its {f.strip()}") for f in fields
    ]
    phrases = [p for p in phrases if p] or ["details the warehouse cannot use"]
    joined = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
    return f"the shipping address has {joined}"


def hold_reason(*, kind: str, field: str, subject: str, shipping_description: str) -> str:
    """Why a hold stops the order, as a phrase (no capital, no full stop) to build on."""
    if kind == ExceptionKind.ADDRESS_INVALID:
        return address_problem([f for f in field.split(",") if f.strip()])
    if kind == ExceptionKind.SKU_UNKNOWN:
        return f"the item {subject} is not set up in the warehouse system yet"
    if kind == ExceptionKind.SKU_INACTIVE:
        return f"the item {subject} is switched off in the warehouse system"
    if kind == ExceptionKind.CARRIER_UNMAPPED:
        option = shipping_description or subject
        return f"the delivery option “{option}” is not linked to a courier yet"
    if kind == ExceptionKind.ORDER_POST_FAILED:
        return "the warehouse system refused the order"
    if kind == ExceptionKind.EDIT_AFTER_DISPATCH:
        return (
            "it replaces an order the warehouse had already packed or dispatched, so nobody "
            "sends both"
        )
    return humanise_code(kind).lower()


def sentence(phrase: str) -> str:
    phrase = phrase.strip()
    if not phrase:
        return ""
    phrase = phrase[0].upper() + phrase[1:]
    return phrase if phrase.endswith((".", "!", "?")) else phrase + "."


def quantity_words(quantity: Decimal) -> str:
    """2, 1.5: a quantity without trailing zeros."""
    return f"{quantity.normalize():f}"


def items_words(lines: Iterable[tuple[str, Decimal]], names: dict[str, str]) -> str:
    """ "1 × Joust Duffle Bag, 2 × MS10-XS-Blue": what a parcel or a refund holds, named."""
    return ", ".join(f"{quantity_words(qty)} × {names.get(code) or code}" for code, qty in lines)
