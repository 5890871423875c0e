"""👍/👎 feedback on answers, appended as JSON lines to ``feedback.jsonl`` in the data folder.

Each line is the answer's one serialized form (``Answer.to_json``) with the
time and the vote added, so the file is evaluation data as it stands: ``rag
eval feedback.jsonl`` scores the 👍 answers as reference answers. Appends are serialized by a lock
and written as one ``write`` of a whole line (safe with several users).

Deliberately not here: reading or scoring feedback (the evaluation harness).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.types import Answer

VOTES = ("up", "down")
_lock = threading.Lock()


def feedback_record(answer: Answer, vote: str) -> dict[str, Any]:
    """``Answer.to_json()`` extended with ``time`` and ``vote``."""
    if vote not in VOTES:
        raise ValueError(f"vote must be one of {VOTES}, not {vote!r}")
    return {**answer.to_json(), "time": datetime.now(UTC).isoformat(timespec="seconds"), "vote": vote}


def append_feedback(path: Path, answer: Answer, vote: str) -> dict[str, Any]:
    record = feedback_record(answer, vote)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as f:
        f.write(line)
    return record
