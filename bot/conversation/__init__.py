"""The conversation: one unit of work per incoming message, its router, and the flows it hands messages to."""
