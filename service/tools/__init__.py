"""The vault as tools for other agents: search, read, related notes, tags, recent notes and confined writes."""
