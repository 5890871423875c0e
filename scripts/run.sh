#!/usr/bin/env bash
# Set up and run the main job: install, provision the embedding model and the local
# answer model, ingest the bundled sample articles and open the chat at http://127.0.0.1:7860.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
pip install --quiet -e .
rag models pull
rag ingest
rag serve "$@"
