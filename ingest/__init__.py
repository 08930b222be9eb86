"""The vault index: scan, parse, chunk, embed, store and sync. Builds on config/, never on service/."""
