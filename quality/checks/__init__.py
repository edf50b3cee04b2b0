"""Checks that reduce the stores to the small frames the suites validate, and row quarantine."""
