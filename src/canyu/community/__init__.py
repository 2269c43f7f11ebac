"""Feedback, votes, comments, duplicates, status workflow, notifications and credits."""
