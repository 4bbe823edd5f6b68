"""The state graphs: ingest, podcast (and more formats as they land)."""
