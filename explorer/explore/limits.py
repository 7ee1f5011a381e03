"""Limits the server keeps, here so that its benchmarks and tests (which must not import the UI) read the same numbers.

SESSION_CAPACITY: Gradio keeps per-session state for this many sessions, the newest ones; every
plain API call is a session of its own, so this bounds the server's memory under API load
(see explorer/ui/server.py for the measurement behind it).
"""
SESSION_CAPACITY = 256
