"""Tracklists for recorded DJ sets: 1001tracklists parsing, polite fetching, alignment, CUE sheets."""
