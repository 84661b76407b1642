"""exec transport."""
