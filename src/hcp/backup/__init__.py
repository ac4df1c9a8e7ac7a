"""Backups of hosted clusters: where they are stored, and the embedded object store that holds them."""
