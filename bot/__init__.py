"""Channels, the conversation service, the message catalogue, settings, wiring and the command line."""
