"""simplan."""
