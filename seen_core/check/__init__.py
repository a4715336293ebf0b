"""Checking a sheet: SEEN's fields and the mapping, the rules, contact details, fixes, payloads."""
