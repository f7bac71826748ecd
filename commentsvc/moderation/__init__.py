"""The moderators' side: accounts now; the review UI builds on it."""
