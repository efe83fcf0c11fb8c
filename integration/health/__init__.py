"""The health of the integration: per-flow verdicts in words, where problems sit, charts,
the Prometheus figures (`metrics`) and the load balancer's check (`healthz`).

Reads only; every figure is read from the database, so every web worker reports the same.
"""
