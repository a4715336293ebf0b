"""Storing work: the SQLite journal of sends, and drafts."""
