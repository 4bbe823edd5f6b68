"""Typed functions around backends: fetch, extract, embed, tts, transcribe, llm, media."""
