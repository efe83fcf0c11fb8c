"""Field options shared by the integration's models."""

MONEY = {"max_digits": 20, "decimal_places": 4}


QTY = {"max_digits": 14, "decimal_places": 4}
