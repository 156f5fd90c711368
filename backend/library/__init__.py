"""The user's view of the library: the query language, the safe tag writer and the edit journal."""
