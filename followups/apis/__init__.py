"""The loops' REST endpoints (DRF, thin: validate, call a service or selector, serialize)."""
