"""Delivered and read watermarks per participant, and unread counts."""
