"""Transactional outbox and the workers that deliver it."""
