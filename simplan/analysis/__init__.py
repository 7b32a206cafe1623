"""Answers for planners and finance, computed from Results tables only."""
