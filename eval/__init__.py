"""Evaluation harness: datasets, metrics, runs, reports, comparisons and the CI gate.

``eval.datasets`` loads the project's gold JSONL (ragas field names) and the
shared ``docs/`` + ``*.jsonl`` folders; ``eval.metrics`` holds the pure metric
functions; ``eval.runner`` answers every question through ``rag.chain.ask``
and writes results.jsonl / summary.json / report.html (``eval.report``);
``eval.compare`` diffs two runs. ``eval/gate.json`` records the thresholds CI
holds the gold set to. Ingestion of a dataset's own documents is injected by
the CLI, so this package never imports ``ingest``.
"""
