"""FastAPI app, job runner, arq worker and the `librarian` CLI."""
