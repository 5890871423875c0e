"""Evaluation harness: gold sets, metrics, reports (placeholder).

The ``rag eval`` command and its metrics arrive with the evaluation issue. The
project's own retrieval checks over the sample corpus live in
``tests/test_sample_retrieval.py`` until then.
"""
