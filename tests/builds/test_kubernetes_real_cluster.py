"""The kubernetes engine against a real cluster running Meteor's operator.

Runs only when ``KUBECONFIG`` is set; otherwise pytest reports it skipped ("KUBECONFIG not
set"), and it is no coverage: the stand-in tests in the other ``test_kubernetes*`` files
are what runs where no cluster is.

The cluster must run Meteor's operator and OpenShift Pipelines, with the operator's
Pipelines in the namespace the builds go to: ``RUNTIME_IMAGES_TEST_NAMESPACE``, default
the kubeconfig context's (``aicoe-meteor`` where the operator's kustomization put them).
``RUNTIME_IMAGES_TEST_IMAGE`` is the image imported (default: the seed's
``quay.io/thoth-station/s2i-minimal-py38-notebook:v0.2.2``).
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

import pytest

from runtime_images.builds.kubernetes.cluster import load_connection

from .kubernetes_harness import IMPORT, Harness, build_resource, ready

pytestmark = [
    pytest.mark.skipif(not os.environ.get("KUBECONFIG"), reason="KUBECONFIG not set"),
    pytest.mark.timeout(2000),
]


async def test_real_cluster_import_and_retry(tmp_path: Path, isolated_home: Path) -> None:
    """An import ends Ready, pinned; retried, it runs a PipelineRun of its own and ends
    Ready again — each within 15 minutes."""
    engine: dict[str, Any] = {
        "retry_backoff": 1.0,
        "max_backoff": 10.0,
        "owner": os.environ.get("JUPYTERHUB_USER") or getpass.getuser(),
    }
    if os.environ.get("RUNTIME_IMAGES_TEST_NAMESPACE"):
        engine["namespace"] = os.environ["RUNTIME_IMAGES_TEST_NAMESPACE"]
    harness = Harness(tmp_path, None, **engine)  # every file KUBECONFIG lists
    name = f"rit-{os.getpid()}"
    resource = build_resource(IMPORT, name=name)
    resource["spec"]["fromImage"] = os.environ.get(
        "RUNTIME_IMAGES_TEST_IMAGE", "quay.io/thoth-station/s2i-minimal-py38-notebook:v0.2.2"
    )

    def ended(build: dict[str, Any]) -> bool:
        return build["status"]["phase"] in ("Ready", "Failed")

    await harness.controller.start()
    try:
        await harness.controller.submit(resource)
        first = await harness.until(name, ended, timeout=900)
        assert first["status"]["phase"] == "Ready", ready(first)
        assert "@sha256:" in first["status"]["image"]
        first_uid = first["status"]["cluster"]["uid"]

        await harness.controller.retry(name)
        second = await harness.until(
            name,
            lambda b: ended(b) and b["status"].get("cluster", {}).get("uid") != first_uid,
            timeout=900,
        )
        assert second["status"]["phase"] == "Ready", ready(second)
        assert "@sha256:" in second["status"]["image"]
        cluster = second["status"]["cluster"]
        run_name = next(p["pipelineRunName"] for p in cluster["pipelines"] if p.get("name") == name)
        connection = load_connection("", "", None, engine.get("namespace", ""))
        run = connection.api.get_namespaced_custom_object(
            "tekton.dev", "v1", cluster["namespace"], "pipelineruns", run_name
        )
        owners = [r["uid"] for r in run["metadata"].get("ownerReferences", [])]
        assert owners == [cluster["uid"]]  # the retried resource's own run
    finally:
        await harness.controller.delete(name)
        await harness.controller.stop()
        await harness.client.aclose()
