"""CLI and `make start` edges (issue 13 point 5, point 4's logging): one clear line instead of a
traceback, global flags after the subcommand, defaults in `--help`, shoot versions checked before helm,
text logs, a bounded number of log lines against an unreachable API server, one `make start` at a time."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from tests.helpers import EXAMPLE, ROOT

CLI = [sys.executable, "-m", "controller"]
NETWORK = str(EXAMPLE / "network-calico.yaml")


def run(*args, env=None, timeout=120):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_run_with_a_missing_kubeconfig_prints_one_line():
    result = run("run", "--kubeconfig", "/nope")
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["/nope: No such file or directory"]


def test_run_outside_a_cluster_without_kubeconfig_prints_one_line():
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST")}
    result = subprocess.run([*CLI, "run"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: no --kubeconfig and not in a cluster")


@pytest.mark.parametrize("before", [True, False])
def test_mappings_dir_works_before_and_after_the_subcommand(tmp_path, before):
    empty = ["--mappings-dir", str(tmp_path)]  # no mapping file: no type is served
    args = [*empty, "validate", "--network", NETWORK] if before else ["validate", "--network", NETWORK, *empty]
    assert run("validate", "--network", NETWORK).returncode == 0
    result = run(*args)
    assert result.returncode == 2 and result.stderr.startswith('spec.type: Unsupported value: "calico"')


def test_run_help_shows_the_defaults():
    result = run("run", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for shown in ("reconcile workers (default: 5)", "(default: :8080)", "(default: networking-leader-election)",
                  "--log-format {json,text}", "(default: json)"):
        assert shown in text, shown


def test_a_shoot_version_that_is_no_version_is_refused_before_helm(tmp_path):
    cluster = yaml.safe_load((EXAMPLE / "cluster.yaml").read_text())
    cluster["spec"]["shoot"]["spec"]["kubernetes"]["version"] = "banana"
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(cluster))
    # no helm at all: the error must come from the shape check, not from a render
    result = run("render", "--network", NETWORK, "--cluster", str(path),
                 env={"HELM_BINARY": str(tmp_path / "no-helm"), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        'cluster.spec.shoot.spec.kubernetes.version: Invalid value: "banana": invalid format']


UNREACHABLE = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
"""


def test_an_unreachable_api_server_gives_a_bounded_number_of_text_log_lines(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(UNREACHABLE)
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}"}
    process = subprocess.Popen([*CLI, "run", "--kubeconfig", str(kubeconfig), "--log-format", "text",
                                "--metrics-bind-address", "127.0.0.1:0", "--health-bind-address", "127.0.0.1:0"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = process.stdout.readline()  # positive signal first: the controller runs, in text format
        assert " INFO  controller.manager controller started" in first, first
        time.sleep(10)
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
    lines = [first, *rest.splitlines()]
    failures = [line for line in lines if "127.0.0.1" in line]
    assert failures, lines  # it did try
    assert not any(line.lstrip().startswith("{") for line in lines)
    assert not any("Retrying (Retry(" in line for line in lines)  # urllib3's own retries are off
    assert len(lines) <= 15, "\n".join(lines)  # the issue saw 114 warnings in 23 s


def _start_module():
    spec = importlib.util.spec_from_file_location("hack_start", ROOT / "hack" / "start.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_start_refuses_a_second_instance_before_touching_anything(tmp_path, monkeypatch):
    start = _start_module()
    lock, kubeconfig = tmp_path / "start.pid", tmp_path / "kubeconfig"
    kubeconfig.write_text("the running instance's")
    monkeypatch.setattr(start, "LOCK", lock)
    monkeypatch.setattr(start, "KUBECONFIG", kubeconfig)
    served = []
    monkeypatch.setattr(start, "serve", lambda: served.append(True) or 0)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    # positive signal: with a stale lock (a dead PID) it starts, and removes its lock when done
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock.write_text(f"{dead.pid}\n")
    assert start.main() == 0 and served == [True] and not lock.exists()
    # a live PID (ours stands in for the running instance): refused, nothing touched
    lock.write_text(f"{os.getpid()}\n")
    with pytest.raises(SystemExit, match=rf"already running \(PID {os.getpid()}"):
        start.main()
    assert served == [True] and kubeconfig.read_text() == "the running instance's"
    assert lock.read_text() == f"{os.getpid()}\n"


def test_offline_commands_read_the_overlay(tmp_path):
    """`render`/`validate`/`diff` with --overlay-dir (before or after the subcommand) see what `run` would
    serve with it; a file that is no mapping or tarball is one line, exit 1."""
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    mapping = (ROOT / "values-mapping" / "calico.yaml").read_text()
    (overlay / "calico.yaml").write_text(mapping.replace("name: extension-networking-calico-config",
                                                          "name: extension-networking-calico-operator"))
    for args in (["--overlay-dir", str(overlay), "render", "--network", NETWORK],
                 ["render", "--network", NETWORK, "--overlay-dir", str(overlay)]):
        result = run(*args)
        assert result.returncode == 0, result.stderr
        assert "name: extension-networking-calico-operator" in result.stdout
    assert "extension-networking-calico-operator" not in run("render", "--network", NETWORK).stdout
    (overlay / "notes.txt").write_text("x")
    result = run("validate", "--network", NETWORK, "--overlay-dir", str(overlay))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: notes.txt: unexpected file (expected <type>.yaml mapping files and <chart>.tgz tarballs)"]
