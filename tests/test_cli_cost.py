"""What issue 12 asked of the CLI, as behaviour (its speed is measured by bench/): commands that render
nothing never import helm's client, and an offline command loads only the mapping file of its Network."""

from __future__ import annotations

import shutil
import subprocess
import sys

from tests.helpers import EXAMPLE, MAPPINGS, ROOT
from tests.test_cli import run


def test_the_cli_imports_helms_client_only_to_render():
    probe = "import sys, controller.cli; print('pyhelm3' in sys.modules, 'controller.render' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_offline_commands_load_only_the_networks_mapping_file(tmp_path):
    mappings = tmp_path / "values-mapping"
    shutil.copytree(MAPPINGS, mappings)
    (tmp_path / "charts").symlink_to(ROOT / "charts")  # the mapping files name their charts relatively
    (mappings / "cilium.yaml").write_text("not: [a mapping file")  # would fail if it were loaded
    result = run("validate", "--mappings-dir", str(mappings), "--network", str(EXAMPLE / "network-calico.yaml"))
    assert result.returncode == 0, result.stderr
