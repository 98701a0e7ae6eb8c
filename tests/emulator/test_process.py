"""The process entry: ``python -m apiserver_emulator`` writes a kubeconfig, seeds, serves."""

import signal
import subprocess
import sys

import yaml
from kubernetes import client, config

from .conftest import CRDS
from .support import GROUP, VERSION, network


def test_module_entry_serves_seeds_and_stops_on_sigterm(tmp_path):
    """Emulator only: the emulator's own process entry (no server fixture, nothing to compare)."""
    seed = tmp_path / "seed"
    seed.mkdir()
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shoot--x"}},
               {**network("seeded"), "metadata": {"name": "seeded", "namespace": "shoot--x"},
                "status": {"observedGeneration": 1}}]
    (seed / "objects.yaml").write_text(yaml.safe_dump_all(list(reversed(objects))))
    kubeconfig = tmp_path / "kubeconfig"
    process = subprocess.Popen([sys.executable, "-m", "apiserver_emulator", "--port", "0", "--crds", str(CRDS),
                                "--seed", str(seed), "--kubeconfig", str(kubeconfig)],
                               stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = line.split()[-1]
        assert url.startswith("http://127.0.0.1:")
        assert yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"] == url
        with config.new_client_from_config(str(kubeconfig)) as api:
            net = client.CustomObjectsApi(api).get_namespaced_custom_object(GROUP, VERSION, "shoot--x", "networks", "seeded")
        assert net["status"] == {"observedGeneration": 1}
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
