"""Authentication (API tokens), roles and the need-to-know access policy."""
