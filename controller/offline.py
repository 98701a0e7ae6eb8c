"""The inputs of the offline commands (`render`, `validate --network`, `diff --network`) from files.

Reads the mapping files, the Network, the optional Cluster and ControllerConfiguration through the
hardened loader, and checks their shapes, so the pure `pipeline` gets what the reconciler would give it.
"""

from __future__ import annotations

import pathlib

from controller import shapes
from controller import shoot as shoots
from controller.config import ControllerConfig, load_config
from controller.errors import ConfigurationError, FieldError
from controller.files import load_document
from controller.mapping import TypeMapping, load_mappings


def offline_inputs(mappings_dir: pathlib.Path, network_file: str, cluster_file: str | None,
                   config_file: str | None) -> tuple[TypeMapping, dict, dict, ControllerConfig]:
    """(mapping of the Network's type, Network, shoot, configuration); without a Cluster the default shoot.
    Only the Network's mapping file is loaded (all of them with a ControllerConfiguration, which is
    checked against every served type)."""
    network = load_document(network_file, "Network")
    shape_errors = shapes.network_errors(network)
    if shape_errors:
        raise ConfigurationError(shape_errors)
    network_type = network["spec"].get("type")
    types = sorted(p.stem for p in pathlib.Path(mappings_dir).glob("*.yaml"))
    if network_type not in types:
        raise ConfigurationError(FieldError("spec.type", "NotSupported", "supported values: "
                                            + ", ".join(f'"{t}"' for t in types), network_type))
    mappings = load_mappings(mappings_dir, None if config_file else [network_type])
    cluster = load_document(cluster_file, "Cluster") if cluster_file else None
    if cluster is not None:
        shapes.check_cluster(cluster)
    return mappings[network_type], network, shoots.shoot_of(cluster), load_config(config_file, mappings)
