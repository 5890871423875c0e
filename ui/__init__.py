"""Gradio chat interface (placeholder).

The chat UI arrives with its own issue; until then the README's run command
answers a sample question in the terminal through ``rag search``.
Gradio will be imported only inside this package.
"""
