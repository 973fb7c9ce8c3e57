"""Communications: status updates from templates, PR and Legal approval, delivery channels.

Everything that leaves the platform for people (e-mail, signed webhooks, Slack) goes through
``service.deliver``: a stored, idempotent delivery sent by the outbox worker, retried with
backoff and visible when it fails.
"""
