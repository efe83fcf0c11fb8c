"""Magento 2.4.8 REST sandbox: see README.md in this directory."""
