"""The fix forms: each maps onto one mapping or address service's arguments."""

from django import forms

from integration.services import ADDRESS_FIELDS


class _Bootstrap:
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "fix_%s")
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect | forms.HiddenInput):
                continue
            widget.attrs.setdefault("class", "form-control form-control-sm")


class SkuMappingForm(_Bootstrap, forms.Form):
    erp_item_code = forms.CharField(
        max_length=255, label="ERP item", help_text="Search the ERP item master and pick one."
    )
    note = forms.CharField(max_length=255, required=False)


class CarrierMappingForm(_Bootstrap, forms.Form):
    courier = forms.CharField(max_length=128, help_text="e.g. Royal Mail, DPD, Evri")
    service = forms.CharField(max_length=128, help_text="e.g. Tracked 24, Next Day")
    erp_carrier_id = forms.CharField(max_length=64, required=False, label="ERP carrier id")
    note = forms.CharField(max_length=255, required=False)


class AddressForm(_Bootstrap, forms.Form):
    firstname = forms.CharField(max_length=255, required=False, label="First name")
    lastname = forms.CharField(max_length=255, required=False, label="Last name")
    company = forms.CharField(max_length=255, required=False)
    street_1 = forms.CharField(max_length=255, label="Street line 1")
    street_2 = forms.CharField(max_length=255, required=False, label="Street line 2")
    street_3 = forms.CharField(max_length=255, required=False, label="Street line 3")
    city = forms.CharField(max_length=255)
    region = forms.CharField(max_length=255, required=False, label="County / region")
    postcode = forms.CharField(max_length=32)
    country_id = forms.CharField(max_length=2, label="Country code", initial="GB")
    telephone = forms.CharField(max_length=64)

    @staticmethod
    def values_from(address) -> dict[str, str]:
        """The form's fields for an address (street lines beyond the third joined into it)."""
        street = list(address.street or [])
        values = {name: getattr(address, name) for name in ADDRESS_FIELDS if name != "street"}
        for n in range(3):
            values[f"street_{n + 1}"] = street[n] if n < len(street) else ""
        if len(street) > 3:
            values["street_3"] = ", ".join(street[2:])
        return values

    @staticmethod
    def changes_from(data: dict) -> dict:
        result = {name: data.get(name, "") for name in ADDRESS_FIELDS if name != "street"}
        result["street"] = [data[f"street_{n}"] for n in (1, 2, 3) if data.get(f"street_{n}")]
        return result
