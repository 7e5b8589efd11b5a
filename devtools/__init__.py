"""What only a developer's machine runs: the embedded Redis, the local cluster, the benchmark.

Installed only with DEBUG=1 (manage.py's default); production code never imports it.
"""
