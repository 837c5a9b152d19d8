"""Database, progress rules, reminders and the trainers' dashboard."""
