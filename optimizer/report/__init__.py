"""Stage 6: Solution -> console, JSON, CSV and Markdown. Reads a Solution; never the model."""
