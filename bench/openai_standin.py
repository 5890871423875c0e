"""`rag eval` through the `openai:` provider, against a llama.cpp server standing in for an endpoint.

    python bench/openai_standin.py [--model 1.5b] -- EVAL_ARGS...
    python bench/openai_standin.py -- eval/gold/sample_gold.jsonl --out bench/out/eval-openai/gold

This process starts the same llama.cpp server `local` uses (xllamacpp, 127.0.0.1,
a random key) and runs `rag eval … --llm openai:<model>` in a child process with
RAG_OPENAI_BASE_URL and RAG_OPENAI_API_KEY pointing at it: the answers go through the OpenAI
wire format and the `openai:` provider (LangChain ChatOpenAI), as they would with DeepSeek or
vLLM. The server takes llama.cpp's grammar, so RAG_OPENAI_GRAMMAR_FIELD is "grammar" unless set
(set it empty to measure an endpoint without grammars). With the same weights, its scores should
match `--llm local`; a difference is a bug in one of the two paths. Not a speed comparison of
endpoints.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.config import Settings  # noqa: E402
from rag.llm import settings_server  # noqa: E402
from rag.models import CHAT_MODEL_ALIASES, resolve_chat_model  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="1.5b", help="local model alias or file name (default 1.5b)")
    parser.add_argument("eval_args", nargs=argparse.REMAINDER, help="after --: the arguments of `rag eval`")
    args = parser.parse_args()
    eval_args = [a for a in args.eval_args if a != "--"]
    settings = Settings()
    name = CHAT_MODEL_ALIASES.get(args.model, args.model)
    server = settings_server(resolve_chat_model(name, settings.models_dir), settings)
    env = {**os.environ, "RAG_OPENAI_BASE_URL": server.base_url, "RAG_OPENAI_API_KEY": server.api_key,
           "RAG_OPENAI_GRAMMAR_FIELD": os.environ.get("RAG_OPENAI_GRAMMAR_FIELD", "grammar")}
    rag = str(Path(sys.executable).parent / "rag")
    print(f"llama.cpp server at {server.base_url} standing in for an OpenAI-compatible endpoint ({name})")
    return subprocess.run([rag, "eval", *eval_args, "--llm", f"openai:{name}"], env=env, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
