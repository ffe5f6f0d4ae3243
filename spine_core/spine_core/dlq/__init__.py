"""Dead letters: inspecting and replaying them through the broker's ``spine_dlq_*`` hooks."""
