"""The Gradio chat (``rag serve``): streamed, cited answers, source viewer, filters, knowledge-base tab.

``ui.serve`` launches, ``ui.layout`` lays out, ``ui.app`` holds the handlers
(they call ``rag.chain.ask_stream``, the same function as ``rag ask``),
``ui.render`` builds the escaped HTML. Gradio is imported only inside this
package, and only when the app is built. Ingestion is injected by the caller
(the CLI), so this package never imports ``ingest``.
"""
