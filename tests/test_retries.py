"""Errors carry their retry: helm failures by exit status, a missing helm at start-up, codes and delays
set where an error is made, and the seed monitoring objects as a pure render (`render --seed`)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
import yaml
from pyhelm3 import errors as helm_errors

from controller import pipeline
from controller import shoot as shoots
from controller.errors import ERR_CONFIGURATION_PROBLEM, ConfigurationError, StartupError, TransientError
from controller.mapping import load_mappings
from controller.reconciler import ERROR, Result, _deletion_timeout
from controller.render import Renderer, classify
from tests.helpers import EXAMPLE, MAPPINGS, ROOT, renderer


def helm_failure(status: int) -> helm_errors.Error:
    return helm_errors.Error(status, b"", b"Error: execution error at (calico/templates/x.yaml:3:4): boom")


def test_helm_reporting_an_error_is_permanent_a_crash_or_kill_is_not():
    reported = classify(helm_failure(1), "calico")
    assert isinstance(reported, ConfigurationError) and "execution error" in str(reported)
    assert reported.codes == (ERR_CONFIGURATION_PROBLEM,)
    panic, killed = classify(helm_failure(2), "calico"), classify(helm_failure(-9), "calico")
    assert type(panic) is TransientError and "exited with 2" in str(panic)
    assert type(killed) is TransientError and "killed by signal 9" in str(killed)


def test_a_missing_helm_is_a_start_up_error(tmp_path):
    with pytest.raises(StartupError, match="no-helm.*HELM_BINARY"):
        Renderer(str(tmp_path / "no-helm"))


def test_the_run_command_refuses_to_start_without_helm(tmp_path):
    result = subprocess.run([sys.executable, "-m", "controller", "run", "--kubeconfig", str(tmp_path / "none")],
                            capture_output=True, text=True, cwd=ROOT, timeout=60,
                            env={"HELM_BINARY": str(tmp_path / "no-helm"), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: helm binary") and "HELM_BINARY" in result.stderr


def test_codes_and_delays_are_set_where_the_error_is_made():
    mr = {"status": {"conditions": [{"type": "ResourcesApplied", "reason": "DeletionFailed",
                                     "message": "error during apply of object x is invalid: y"}]}}
    invalid = _deletion_timeout("ns", "mr", mr)
    assert invalid.codes == (ERR_CONFIGURATION_PROBLEM,) and invalid.delay is None
    assert _deletion_timeout("ns", "mr", {}).codes == ()
    assert Result(ERROR, error=TransientError("later", delay=30.0)).retry_after == 30.0
    assert Result(ERROR, error=TransientError("now")).retry_after is None


def test_seed_objects_are_rendered_purely_and_never_change_the_render_cache():
    mapping = load_mappings(MAPPINGS, ["calico"])["calico"]
    network = yaml.safe_load((EXAMPLE / "network-calico.yaml").read_text())
    shoot = shoots.shoot_of(yaml.safe_load((EXAMPLE / "cluster.yaml").read_text()))
    first = asyncio.run(pipeline.seed_objects(renderer(), mapping, network, shoot))
    assert {o["metadata"]["namespace"] for o in first} == {network["metadata"]["namespace"]}
    first[0]["metadata"]["name"] = "changed by a caller"
    again = asyncio.run(pipeline.seed_objects(renderer(), mapping, network, shoot))
    assert again[0]["metadata"]["name"] != "changed by a caller"


def test_render_seed_prints_the_seed_monitoring_objects():
    result = subprocess.run([sys.executable, "-m", "controller", "render", "--seed", "--network",
                             str(EXAMPLE / "network-calico.yaml")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    objects = list(yaml.safe_load_all(result.stdout))
    assert {(o["kind"], o["metadata"]["name"]) for o in objects} >= {
        ("ScrapeConfig", "shoot-calico-felix"), ("ConfigMap", "calico-dashboards")}
    assert {o["metadata"]["namespace"] for o in objects} == {"shoot--foo--bar"}
