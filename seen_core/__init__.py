"""SEEN Sender's core: read a receiver sheet, map it, check it, send it, report on it.

Nothing in this package imports Streamlit; the app's pages only call it.
"""

__version__ = "0.1.0"
