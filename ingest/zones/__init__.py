"""The object store (a local directory or GCS) and its zones, one key layout each: raw/ (bytes as
received), staged/ (typed Parquet, with its Arrow schemas), quarantine/ (what failed, with why),
quality/raw_profiles/ and manifests/ (what tasks hand on). Imports only settings and identifiers.
"""
