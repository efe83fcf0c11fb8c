"""Orders, invoices and shipments the way Magento computes and stores them.

pricing (VAT and discount per row), spec (what build_order takes), items and builder (the new
order document), document (load, save, derived parts), state (states, history, cancel),
reservations (MSI), invoices and shipments (the documents and what they change on the order).
"""
