"""The bootstrap peer that operators run: first contact, discovery and an
archive to sync from, with no authority (bootstrap/peer.py)."""
