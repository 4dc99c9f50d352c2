"""The kernelspec verb: a Gateway Provisioners kernelspec that runs kernels in an image."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..error_codes import EXIT_OK
from .common import Verb, open_store


def cmd_kernelspec(args: argparse.Namespace) -> int:
    from ..kernelspec import install_kernelspec, parse_options

    options: dict[str, Any] = {"provisioner": args.provisioner, "replace": args.replace}
    for key in ("kernel_name", "display_name", "language", "prefix", "port_range"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    if args.user:
        options["user"] = True
    if args.sys_prefix:
        options["sys_prefix"] = True
    if args.launch_timeout is not None:
        options["launch_timeout"] = args.launch_timeout
    if args.prefix is not None:
        options["prefix"] = str(Path(args.prefix).absolute())
    for key in ("authorized_users", "unauthorized_users"):
        if getattr(args, key):
            options[key] = getattr(args, key)
    installed = install_kernelspec(open_store(), args.name, parse_options(options))
    print(f"Kernelspec '{installed.kernel_name}' installed in {installed.resource_dir}")
    return EXIT_OK


def register(verb: Verb) -> None:
    """Add this module's verbs to the command line."""
    sub = verb(
        "kernelspec",
        "Install a kernelspec that launches kernels in the runtime image (Gateway "
        "Provisioners' format; needs `pip install gateway-provisioners`).",
        cmd_kernelspec,
    )
    sub.add_argument("--name", required=True, help="The runtime image.")
    sub.add_argument(
        "--provisioner", required=True, choices=["kubernetes", "docker"], help="Where kernels run."
    )
    sub.add_argument(
        "--kernel-name",
        "--kernel_name",
        dest="kernel_name",
        help="Kernelspec directory name (default: k8s_<name> or docker_<name>).",
    )
    sub.add_argument(
        "--display-name",
        "--display_name",
        dest="display_name",
        help="Default: '<display name> on Kubernetes' or '<display name> on Docker'.",
    )
    sub.add_argument(
        "--language", type=str.lower, choices=["python", "r", "scala"], help="Default: python."
    )
    where = sub.add_mutually_exclusive_group()
    where.add_argument(
        "--user", action="store_true", help="Install in the user's Jupyter data dir (default)."
    )
    where.add_argument("--prefix", help="Install in PREFIX/share/jupyter/kernels/.")
    where.add_argument(
        "--sys-prefix",
        "--sys_prefix",
        dest="sys_prefix",
        action="store_true",
        help="Install in sys.prefix/share/jupyter/kernels/.",
    )
    sub.add_argument("--replace", action="store_true", help="Replace an existing kernelspec.")
    sub.add_argument(
        "--launch-timeout",
        "--launch_timeout",
        dest="launch_timeout",
        type=int,
        help="Seconds to wait for the kernel to start (default 30).",
    )
    sub.add_argument(
        "--port-range",
        "--port_range",
        dest="port_range",
        help="LOWER..UPPER ports the kernel may use (default 0..0, any).",
    )
    sub.add_argument(
        "--authorized-users",
        "--authorized_users",
        dest="authorized_users",
        action="append",
        help="Only these users may launch the kernel (repeatable).",
    )
    sub.add_argument(
        "--unauthorized-users",
        "--unauthorized_users",
        dest="unauthorized_users",
        action="append",
        help="These users may not launch the kernel (repeatable; default: root).",
    )
