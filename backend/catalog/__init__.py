"""The catalog: watched folders, scanning, live watching, file identity and tags."""
