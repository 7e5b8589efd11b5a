"""sessionkeeper: a Django session engine on Redis (``SESSION_ENGINE = "sessionkeeper.store"``).

See README.md for the settings (``SESSIONKEEPER``), the guarantees and the stored layout.
"""

__version__ = "1.0.0"
