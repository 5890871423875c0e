"""The user-facing layers: the ``rag`` command line (``ui.cli``) and the Gradio chat (``rag serve``).

``ui.cli`` is the outermost layer: it parses arguments and wires ``ingest`` and
``eval`` into the library. The chat: ``ui.serve`` launches, ``ui.layout`` lays
out, ``ui.app`` holds the handlers (they call ``rag.chain.ask_stream``, the same
function as ``rag ask``), ``ui.render`` builds the escaped HTML. Gradio is
imported only inside this package, and only when the app is built. The chat's
ingestion is injected by the CLI, so the chat modules themselves never import
``ingest``.
"""
