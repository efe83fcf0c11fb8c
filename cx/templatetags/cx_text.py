"""Template filters for the CX pages."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from cx.couriers import TrackingLink

register = template.Library()


@register.filter
def tracked(text: str, links: Sequence[TrackingLink]) -> SafeString:
    """The text, escaped, with each tracking number in it linked to its courier's page."""
    html = str(escape(text))
    anchors = {}
    for link in links:
        anchors[str(escape(link.number))] = format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer" data-testid="tracking-link" '
            'title="Track the parcel on the {} website">{}</a>',
            link.url,
            link.site,
            link.number,
        )
    if not anchors:
        return mark_safe(html)  # noqa: S308 - escaped above
    # One pass over every number, whole tokens only: TT12 is not linked inside TT123.
    pattern = re.compile(
        r"(?<![\w])("
        + "|".join(re.escape(n) for n in sorted(anchors, key=len, reverse=True))
        + r")(?![\w])"
    )
    return mark_safe(pattern.sub(lambda m: anchors[m.group(1)], html))  # noqa: S308 - escaped
