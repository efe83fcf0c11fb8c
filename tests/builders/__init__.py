"""Builders shared by the test suites and the benchmark: orders as Magento sends them, the
sale the ERP is asked for, and two workers racing."""
