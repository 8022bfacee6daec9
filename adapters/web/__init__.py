"""The web dashboard under /app/: sign-in from a chat link, a session cookie, read-only pages.

Like the Slack and Teams adapters it holds no business rule: bot/ hands it the functions that
sign in, find a session's person and compute a page's figures (handlers.dashboard, handlers.reports).
"""
