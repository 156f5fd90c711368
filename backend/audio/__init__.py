"""Audio utilities shared by areas (synthesis of test/demo audio)."""
