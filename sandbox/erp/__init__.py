"""The Tryton 8.2 ERP sandbox: bootstrap, server process, warehouse stand-in, fault proxy.

Nothing here imports Django at module level, so the bootstrap can run in a clean subprocess
(trytond keeps process-wide configuration that must not leak into the desk's process).
"""
