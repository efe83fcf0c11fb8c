"""The web API handlers, one module per route group. Importing this package registers them
in sandbox.magento.routing.ROUTES, in the order below (the first match wins)."""

# isort: off
from sandbox.magento.routes import token  # noqa: F401 - imported to register its routes
from sandbox.magento.routes import orders  # noqa: F401
from sandbox.magento.routes import sales_documents  # noqa: F401
from sandbox.magento.routes import creditmemos  # noqa: F401
from sandbox.magento.routes import products  # noqa: F401
from sandbox.magento.routes import inventory  # noqa: F401
from sandbox.magento.routes import bulk_status  # noqa: F401
# isort: on
