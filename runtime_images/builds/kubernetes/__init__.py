"""The kubernetes build engine: CustomNBImage builds run by Meteor's operator in a cluster.

``cluster`` is the connection to the API server (configuration, calls, watches, errors),
``operator`` reads what the operator reports, ``engine`` is the build engine itself.
"""

from .cluster import ClusterError, forbidden_message, label_value, rejection_message
from .engine import KubernetesEngine
from .operator import Mirror, image_of_stream, mirror_status, most_recent_condition
from .resource import OWNER_LABEL

__all__ = [
    "OWNER_LABEL",
    "ClusterError",
    "KubernetesEngine",
    "Mirror",
    "forbidden_message",
    "image_of_stream",
    "label_value",
    "mirror_status",
    "most_recent_condition",
    "rejection_message",
]
