"""Plain Python, no Airflow: where data comes from, where it lands and where it is stored.

Layers, each importing only those below it (import-linter contracts in pyproject.toml):
settings and identifiers; zones/ (the object store and its zones); endpoints (and replay/, its
local stand-in); sec/ and yahoo/ (one folder per source); postgres/ and warehouse/ (the stores);
publish/ (from the warehouse back to the operational store).
"""
