"""What an operator's tools read: ``/healthz`` (alive), ``/readyz`` (ready to serve, workers' beats) and
``/metrics`` (Prometheus, all processes of a host summed, not open to everyone)."""
