"""The consent app's HTTP API (v1): the public DUO matcher now, the hospital API next (DESIGN §6)."""
