"""The specialists: importer, researcher, scriptwriter, narrator, assembler."""
