"""Ingestion: load files, clean Chinese text, extract metadata, chunk, and store via ``rag``."""
