"""The client of Stowaway's control API (client.py) and where a peer's config comes from (peers.py)."""
