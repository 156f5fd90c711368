"""Qt item models over the backend's async queries."""
