"""The shared library both apps use: database helpers, filters, pagination, errors, roles, settings helpers.

It imports neither app nor the project modules above it (import-linter holds that line in `make lint`).
"""
