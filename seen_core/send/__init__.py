"""Sending to SEEN: targets, one request, batches and retries, tokens, video links."""
