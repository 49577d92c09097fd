"""Monitoring: alerts (file outbox, Slack, email), and later drift and performance checks."""
