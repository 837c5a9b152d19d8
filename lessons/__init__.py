"""Courses, content validation, the tutor engine and answer assessment (no channels, no database)."""
