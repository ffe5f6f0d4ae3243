"""Operations: logs, metrics, tracing and the health and metrics endpoints of a running app."""
