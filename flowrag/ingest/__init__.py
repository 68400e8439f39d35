"""Ingestion orchestration: loaders feed pure extractors; the writer embeds what changed and
upserts in batches. Each source has one entry point callable from the CLI and the API."""
