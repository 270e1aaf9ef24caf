"""Signed consent receipts: ISO/IEC TS 27560 records, canonical JSON, Ed25519 keys and verification."""
