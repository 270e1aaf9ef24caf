"""Tamper-evident logs: RFC 6962 Merkle trees with C2SP signed checkpoints and proofs (DESIGN.md §7).

The pure core — merkle, note, checkpoint, proof, canonical — does no I/O and imports no models, so the
settings and migrations can use it; the modules beside them store, integrate, publish and verify the logs.
"""
