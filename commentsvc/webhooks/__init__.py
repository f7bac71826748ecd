"""Signed webhooks to site owners: the outbox (here), delivery and the worker."""
