"""The session benchmark's parts: engines under test, a private Redis, in-process and HTTP measurements.

``python manage.py bench_sessions`` ties them together; see the README's benchmark section.
"""
