"""Metadata DB, object store, vector store, provenance edges and the LangGraph checkpointer."""
