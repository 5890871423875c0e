"""👍/👎 feedback on answers, appended as JSON lines to ``feedback.jsonl`` in the data folder.

Each line holds the question, the answer text, its citations and the vote, so
the file can later become evaluation data. Appends are serialized by a lock
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
    if vote not in VOTES:
        raise ValueError(f"vote must be one of {VOTES}, not {vote!r}")
    return {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "vote": vote,
        "question": answer.question,
        "standalone_question": answer.standalone_question,
        "answer": answer.text,
        "refused": answer.refused,
        "llm": answer.llm,
        "citations": [c.to_json() for c in answer.citations],
    }


def append_feedback(path: Path, answer: Answer, vote: str) -> dict[str, Any]:
    record = feedback_record(answer, vote)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as f:
        f.write(line)
    return record
