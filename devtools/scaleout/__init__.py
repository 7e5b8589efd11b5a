"""Scale out on one machine the way App Service does: N gunicorn instances behind a TLS-terminating nginx.

``Cluster`` is used by ``manage.py runcluster``, by ``manage.py loadtest`` and by the
tests in ``tests/devtools/scaleout/`` alike, so what the tests prove is what a user runs.
"""

from devtools.scaleout.cluster import Cluster, ClusterError, ClusterSettings
from devtools.scaleout.nginx import NginxNotInstalled

__all__ = ["Cluster", "ClusterError", "ClusterSettings", "NginxNotInstalled"]
