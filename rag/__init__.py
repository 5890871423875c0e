"""dangjian-rag core: shared types, settings, model provisioning, stores, retrieval, CLI.

Importing this package loads nothing heavy and never touches the network.
"""

__version__ = "0.1.0"
