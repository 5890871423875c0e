#!/usr/bin/env bash
# Set up and run the main job: install, provision the embedding model and the local
# answer model, ingest the bundled sample articles and answer a sample question.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
pip install --quiet -e .
rag models pull
rag ingest
rag ask "其他地方是怎么选派党建指导员的？"
