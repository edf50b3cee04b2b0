"""SEC EDGAR: the HTTP client (User-Agent, shared rate limit, retries), the universe, extraction
(per filer and bulk), filing documents, incremental state, SEC's vocabulary, normalization and
staging. Imports settings, identifiers, zones and endpoints; never yahoo or the stores.
"""
