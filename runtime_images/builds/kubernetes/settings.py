"""What the kubernetes engine can be told: its traits, as ``c.KubernetesEngine.<trait>``.

The engine (:mod:`.engine`) subclasses this class, so the traits are configured under its
name; they are kept here so that the engine's module holds what it does.
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from traitlets import Bool, Float, Integer, TraitError, Unicode, default, validate
from traitlets.config import LoggingConfigurable

# The operator's resource, newest name first (discovery picks the first one served).
KINDS = {
    "customruntimeenvironments": "CustomRuntimeEnvironment",
    "customnbimages": "CustomNBImage",
}


class KubernetesSettings(LoggingConfigurable):
    """The kubernetes engine's configuration (see docs/kubernetes.md for each trait)."""

    kubeconfig = Unicode(
        "",
        help="""Path of the kubeconfig file naming the cluster and credentials. Empty: the
        KUBECONFIG environment variable, else ~/.kube/config; when neither exists and the
        server runs in a pod, the pod's service account (in-cluster configuration).""",
    ).tag(config=True)

    context = Unicode(
        "",
        help="The kubeconfig context to use; empty for its current-context.",
    ).tag(config=True)

    in_cluster = Bool(
        None,
        allow_none=True,
        help="""Use the pod's service account instead of a kubeconfig: True always, False
        never, None (the default) when no kubeconfig file exists and
        KUBERNETES_SERVICE_HOST is set.""",
    ).tag(config=True)

    namespace = Unicode(
        "",
        help="""Namespace the custom resources are created in. Empty: the kubeconfig
        context's namespace, else the service account's namespace in a pod, else
        "default".""",
    ).tag(config=True)

    api_version = Unicode(
        "meteor.zone/v1alpha1",
        help="API group and version of the operator's custom resource (group/version).",
    ).tag(config=True)

    plural = Unicode(
        "",
        help="""Resource plural of the custom resource. Empty (the default): the one the
        cluster serves, found by API discovery — "customruntimeenvironments" (Meteor's
        operator since its rename, PR #139) else "customnbimages" (its CNBi era).""",
    ).tag(config=True)

    kind = Unicode(
        help="""Kind of the custom resource. Default: CustomNBImage for customnbimages,
        CustomRuntimeEnvironment for customruntimeenvironments (as discovered).""",
    ).tag(config=True)

    owner = Unicode(
        help="""The Jupyter user the resources are labelled with
        (runtime-images.jupyter.org/owner). Default: $JUPYTERHUB_USER, else the user
        running the server.""",
    ).tag(config=True)

    request_timeout = Float(30.0, help="Seconds one API call (other than a watch) may take.").tag(
        config=True
    )

    watch_timeout = Float(
        300.0,
        help="""Seconds a watch stays open before it is renewed (from the last
        resourceVersion seen).""",
    ).tag(config=True)

    retry_backoff = Float(
        1.0,
        help="""Seconds before the first retry when the cluster cannot be reached; doubled
        on each further failure up to max_backoff.""",
    ).tag(config=True)

    max_backoff = Float(
        30.0, help="Longest wait between two retries when the cluster cannot be reached."
    ).tag(config=True)

    create_attempts = Integer(
        4,
        help="""Attempts at creating the resource while the cluster cannot be reached, before
        the build fails with ClusterUnavailable.""",
    ).tag(config=True)

    import_timeout = Float(
        120.0,
        help="""Seconds to wait, once an import's PipelineRun succeeded, for OpenShift to
        record the image's digest in the ImageStream (its pipeline sets the tag last, and
        the import is asynchronous); then the digest is read from the registry itself.""",
    ).tag(config=True)

    auth_retry_timeout = Float(
        300.0,
        help="""Seconds a followed build keeps reloading the credentials and retrying once
        the cluster refuses them (401, or 403 after the watch had worked: exec plugins and
        service-account tokens rotate); the build goes on in the cluster meanwhile. Then
        it fails with Forbidden.""",
    ).tag(config=True)

    imagestream_api_version = Unicode(
        "image.openshift.io/v1",
        help="""API group/version of the ImageStreams the operator's pipelines create (the
        resulting image is read from the one named after the PipelineRun).""",
    ).tag(config=True)

    @validate("api_version")
    def _valid_api_version(self, proposal: Any) -> str:
        value = str(proposal["value"])
        group, _, version = value.partition("/")
        if not group or not version or "/" in version:
            raise TraitError(
                f"api_version must be group/version, e.g. meteor.zone/v1alpha1: {value!r}"
            )
        return value

    @default("kind")
    def _default_kind(self) -> str:
        return KINDS.get(self.plural, "")

    @default("owner")
    def _default_owner(self) -> str:
        try:
            return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()
        except (KeyError, OSError):  # no passwd entry for the UID
            return "unknown"

    @property
    def group(self) -> str:
        return self.api_version.partition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.partition("/")[2]
