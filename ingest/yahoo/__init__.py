"""Yahoo market data through yfinance: the session, extraction, normalization, Yahoo's known
errors, staging, the ticker universe (from SEC's ticker list, ingest/sec/universe.py) and the
exchanges' trading calendars. Imports settings, identifiers, zones, endpoints and sec's universe.
"""
