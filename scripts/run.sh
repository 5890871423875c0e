#!/usr/bin/env bash
# Set up and run the main job: install, provision the embedding model, ingest the
# bundled sample articles and answer a sample question.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
pip install --quiet -e .
rag models pull
rag ingest
rag search "楼宇党建是怎么做的？" -k 3
