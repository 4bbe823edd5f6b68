"""The eval suites by name (a light module: the CLI's help lists them without loading the evals)."""

SUITES = ["judge", "pdf", "webpage", "transcript", "content", "podcast", "documents", "search"]
FULL_ONLY = {"search"}  # imports every test paper (minutes): in `full` and by name only
