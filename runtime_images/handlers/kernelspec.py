"""``POST images/{name}/kernelspec``: install a Gateway Provisioners kernelspec for an image.

A missing ``gateway_provisioners`` package is the server's environment, not a server
failure: it answers 424 (Failed Dependency) with ``code`` ``GatewayProvisionersMissing``
and the ``pip install`` command in the message. Requests install in the user's Jupyter
data directory; ``prefix`` and ``sys_prefix`` need
``c.KernelspecInstaller.allow_rest_install_locations = True``.
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import ValidationFailedError
from ..kernelspec import KernelspecInstaller, install_kernelspec, parse_options
from .base import RuntimeImagesHandler


class KernelspecHandler(RuntimeImagesHandler):
    """Write a kernelspec that launches kernels in the runtime image; 201 with kernel.json."""

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        body = await self.json_body()
        options = parse_options(body)
        installer: KernelspecInstaller = self.settings["runtime_images_kernelspec_installer"]
        errors = installer.location_errors(options)
        if errors:
            summary = "; ".join(str(e) for e in errors)
            raise ValidationFailedError(errors, f"Invalid kernelspec options: {summary}")
        installed = await self.call(install_kernelspec, self.store, name, options)
        self.write_json(installed.to_json(), 201)
