"""Entry points of `gardener-extension-networking`: run | admission | render | validate | diff | version.

`render` and `validate` run the pure pipeline offline on files (`validate --shoot` the admission
checks); `run` starts the controller (`manager`); `admission` serves the Shoot admission webhooks; `diff`
(controller/diff.py) shows what a reconcile would change, with `diff`'s exit codes (0 same, 1 changes, 2
errors). Otherwise exit codes: 0 success, 2 configuration problem (one line per field error on stderr), 1 anything else
(one line, no traceback).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import sys
import tempfile

import yaml

import controller
from controller import pipeline
from controller.config import load_config
from controller.errors import ConfigurationError, FieldError, StartupError, TransientError
from controller.files import SAFE_DUMPER, load_document
from controller.managedresource import secret_manifest
from controller.mapping import load_mappings
from controller.mapping.loader import MappingFileError
from controller.offline import offline_inputs
from controller.options import RunOptions, add_admission_arguments, add_run_arguments
from controller.overlay import OverlayError, read_overlay, stage

EXIT_OK, EXIT_FAILURE, EXIT_CONFIGURATION = 0, 1, 2


def default_mappings_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("NETWORKING_MAPPINGS_DIR")
                        or pathlib.Path(controller.__file__).resolve().parents[1] / "values-mapping")


def cmd_validate(args) -> int:
    if args.shoot:
        return _validate_shoot(args)
    mapping, network, shoot, config = offline_inputs(args.mappings_dir, args.network, args.cluster, args.config)
    pipeline.compute_values(mapping, network, shoot, config)
    print(f"{network['metadata']['name']}: valid {mapping.type} network")
    return EXIT_OK


def _validate_shoot(args) -> int:
    """`validate --shoot`: the admission validator's checks on a Shoot manifest, for the types it is
    labelled for and the type of its spec.networking (Gardener adds the label only when it stores it)."""
    from controller.admission import shoots as admission

    mappings = load_mappings(args.mappings_dir)
    shoot = load_document(args.shoot, "Shoot")
    config = load_config(args.config, mappings)
    networking = shoot.get("spec", {}).get("networking") if isinstance(shoot.get("spec"), dict) else None
    network_type = networking.get("type") if isinstance(networking, dict) else None
    types = [m for m in admission.labelled_types(shoot, mappings)]
    if network_type in mappings and mappings[network_type] not in types:
        types.append(mappings[network_type])
    if not types:
        raise ConfigurationError(FieldError("spec.networking.type", "NotSupported", "supported values: "
                                            + ", ".join(f'"{t}"' for t in mappings), network_type))
    errors = []
    for mapping in types:
        gates = config.gates_for(mapping.feature_gates)
        errors.extend(e for e in admission.validate_shoot(mapping, shoot, gates) if e not in errors)
    if errors:
        raise ConfigurationError(errors)
    name = (shoot.get("metadata") or {}).get("name", "")
    print(f"{name}: valid {', '.join(m.type for m in types)} shoot")
    return EXIT_OK


def cmd_render(args) -> int:
    from controller.render import Renderer  # helm's client: only for the commands that render

    mapping, network, shoot, config = offline_inputs(args.mappings_dir, args.network, args.cluster, args.config)
    if args.seed:
        yaml.dump_all(asyncio.run(pipeline.seed_objects(Renderer(), mapping, network, shoot)), sys.stdout,
                      Dumper=SAFE_DUMPER, sort_keys=False)
        return EXIT_OK
    desired = asyncio.run(pipeline.desired_state(Renderer(), mapping, network, shoot, config))
    if args.manifests:
        sys.stdout.write(secret_manifest(desired.secret))
    else:
        yaml.dump_all([desired.secret, desired.managed_resource], sys.stdout, Dumper=SAFE_DUMPER, sort_keys=False)
    return EXIT_OK


def cmd_version(args) -> int:
    print(f"gardener-extension-networking {controller.__version__}")
    return EXIT_OK


def cmd_run(args) -> int:
    from controller.manager import run_controller  # pulls in the API client; keep render light

    return run_controller(RunOptions.from_args(args))


def cmd_diff(args) -> int:
    from controller.diff import run  # pulls in the API client

    return run(args)


def cmd_admission(args) -> int:
    from controller.admission.command import run_admission  # pulls in the API client and aiohttp

    return run_admission(args)


class _DefaultsShown(argparse.HelpFormatter):
    """`--help` shows each flag's default, unless its text already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, "", False, argparse.SUPPRESS) or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gardener-extension-networking", description=__doc__.splitlines()[0])
    parser.add_argument("--mappings-dir", type=pathlib.Path, default=default_mappings_dir(),
                        help="directory of values-mapping/<type>.yaml files (env NETWORKING_MAPPINGS_DIR)")
    overlay_help = ("directory of operator mapping files (<type>.yaml) and chart tarballs (<chart>.tgz) that add to "
                    "or replace the built-in ones; `run` reloads it while running (env NETWORKING_OVERLAY_DIR)")
    parser.add_argument("--overlay-dir", type=pathlib.Path, default=os.environ.get("NETWORKING_OVERLAY_DIR") or None,
                        help=overlay_help)
    # the global flags again on every subcommand, so they work after it too; SUPPRESS keeps a value
    # given before the subcommand from being overwritten by the subparser's default
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--mappings-dir", type=pathlib.Path, default=argparse.SUPPRESS,
                        help="directory of values-mapping/<type>.yaml files (env NETWORKING_MAPPINGS_DIR)")
    common.add_argument("--overlay-dir", type=pathlib.Path, default=argparse.SUPPRESS, help=overlay_help)
    sub = parser.add_subparsers(dest="command", required=True)

    def add_command(name: str, **kwargs) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], formatter_class=_DefaultsShown, **kwargs)

    for name, func, text in (("render", cmd_render, "render a Network into its Secret and ManagedResource"),
                             ("validate", cmd_validate, "check a Network (or a Shoot) without rendering")):
        cmd = add_command(name, help=text)
        source = cmd.add_mutually_exclusive_group(required=True) if name == "validate" else cmd
        source.add_argument("--network", required=name == "render", help="file with the Network object")
        if name == "validate":
            source.add_argument("--shoot", help="file with a core.gardener.cloud Shoot: the admission checks")
        cmd.add_argument("--cluster", help="file with the Cluster object (spec.shoot); default: a documented "
                                           "IPv4 shoot on Kubernetes 1.32.0")
        cmd.add_argument("--config", help="ControllerConfiguration file (feature gates)")
        if name == "render":
            shown = cmd.add_mutually_exclusive_group()
            shown.add_argument("--manifests", action="store_true", help="print the rendered shoot manifests instead")
            shown.add_argument("--seed", action="store_true", help="print the seed monitoring objects instead")
        cmd.set_defaults(func=func)

    run = add_command("run", help="run the controller")
    add_run_arguments(run)
    run.set_defaults(func=cmd_run)

    diff = add_command("diff", help="what a reconcile with these charts and mappings would change "
                                       "(exit 0: nothing, 1: something, 2: errors)")
    diff.add_argument("--network", help="file with one Network, diffed offline against --against")
    diff.add_argument("--against", help="what is deployed: the ManagedResource's Secret(s) as YAML "
                                        "(kubectl get secret -o yaml) or a manifest stream")
    diff.add_argument("--cluster", help="file with the Network's Cluster object (default: the default shoot)")
    diff.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG", ""),
                      help="kubeconfig of a seed: every Network there, read-only (env KUBECONFIG)")
    diff.add_argument("--config", help="ControllerConfiguration file (feature gates) of the seed's controller")
    diff.set_defaults(func=cmd_diff)

    admission = add_command("admission", help="serve the admission webhooks for Shoots (garden cluster)")
    add_admission_arguments(admission)
    admission.set_defaults(func=cmd_admission)

    add_command("version", help="print the version").set_defaults(func=cmd_version)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.overlay_dir is not None and args.command != "run":  # `run` reloads it itself
            with tempfile.TemporaryDirectory(prefix="networking-mappings-") as staged:
                args.mappings_dir = stage(args.mappings_dir, read_overlay(args.overlay_dir), pathlib.Path(staged))
                return args.func(args)
        return args.func(args)
    except ConfigurationError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return EXIT_CONFIGURATION
    except (MappingFileError, OverlayError, TransientError, StartupError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_FAILURE
