"""Evaluation harness: gold sets, metrics, reports.

``eval/gold/sample_gold.jsonl`` is the project's gold set over the bundled
sample articles (fields follow ragas: ``user_input``, ``reference``,
``reference_contexts``, plus ``sources``, ``key_points``, ``answerable``,
``kind``). The ``rag eval`` command and its metrics arrive with the evaluation
issue; until then ``tests/test_gold.py`` and ``bench/answer_gold.py`` use it.
"""
