"""Local fakes of the platforms our channels call (Graph API, Bot API)."""
