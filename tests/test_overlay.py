"""The overlay loader on its own: which types a change touches, unsafe tarballs, an invalid change
keeping the set in force (controller/overlay.py)."""

from __future__ import annotations

import io
import tarfile

import pytest

from controller.overlay import MappingSet, OverlayError
from tests.helpers import CHARTS, MAPPINGS
from tests.integration.test_overlay import publish


def tarball(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data else None)
    return buffer.getvalue()


def file(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def chart_tarball(name: str, *extra: tuple[tarfile.TarInfo, bytes]) -> bytes:
    source = CHARTS / name
    return tarball([file(f"{name}/{p.relative_to(source)}", p.read_bytes())
                    for p in sorted(source.rglob("*")) if p.is_file()] + list(extra))


@pytest.fixture
def overlay(tmp_path):
    directory = tmp_path / "overlay"
    directory.mkdir()
    publish(directory, {}, 0)
    return directory


def test_only_the_types_whose_mapping_or_chart_changed_are_reported(overlay):
    served = MappingSet(MAPPINGS, overlay, None, None)
    try:
        assert set(served.mappings) == {"calico", "cilium"} and served.reload() == (set(), "")
        mapping = (MAPPINGS / "cilium.yaml").read_text().replace("  origin: extension-networking-cilium",
                                                                 "  origin: operator-cilium")
        publish(overlay, {"cilium.yaml": mapping.encode()}, 1)
        assert served.reload() == ({"cilium"}, "")
        assert served.mappings["cilium"].origin == "operator-cilium"
        # a chart: the types rendering it (calico-monitoring is calico's monitoring chart)
        publish(overlay, {"cilium.yaml": mapping.encode(), "mon.tgz": chart_tarball("calico-monitoring")}, 2)
        assert served.reload() == (set(), "")  # same files as the image's chart: nothing changed
        extended = chart_tarball("calico-monitoring", file("calico-monitoring/templates/NOTES.txt", b"operator"))
        publish(overlay, {"cilium.yaml": mapping.encode(), "mon.tgz": extended}, 3)
        assert served.reload() == ({"calico"}, "")
    finally:
        served.close()


def test_an_invalid_change_keeps_the_set_in_force_until_a_valid_one(overlay):
    served = MappingSet(MAPPINGS, overlay, ["calico"], None)
    try:
        before = served.mappings
        publish(overlay, {"calico.yaml": b"type: calico\n"}, 1)
        changed, why = served.reload()
        assert changed is None and "calico.yaml" in why
        assert served.mappings is before
        assert served.reload() == (set(), "")  # the same bad files are not tried again
        publish(overlay, {}, 2)  # withdrawn: back to the image's files, which equal the set in force
        assert served.reload() == (set(), "") and served.mappings is not before
    finally:
        served.close()


@pytest.mark.parametrize("members, reason", [
    ([file("calico/Chart.yaml"), file("other/x")], "one top directory"),
    ([file("calico/values.yaml")], "Chart.yaml missing"),
    ([file("calico/Chart.yaml"), file("calico/../../escape")], "only plain files"),
])
def test_unsafe_or_foreign_tarballs_are_refused(overlay, members, reason):
    publish(overlay, {"calico.tgz": tarball(members)}, 1)
    with pytest.raises(OverlayError, match=reason):
        MappingSet(MAPPINGS, overlay, ["calico"], None)


def test_a_symlink_in_a_tarball_is_refused(overlay):
    link = tarfile.TarInfo("calico/templates/x.yaml")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    publish(overlay, {"calico.tgz": tarball([file("calico/Chart.yaml"), (link, b"")])}, 1)
    with pytest.raises(OverlayError, match="only plain files"):
        MappingSet(MAPPINGS, overlay, ["calico"], None)


def test_a_revision_removed_while_it_is_read_is_read_again_at_the_next_poll(overlay, monkeypatch):
    from controller import overlay as module

    served = MappingSet(MAPPINGS, overlay, ["calico"], None)
    try:
        mapping = (MAPPINGS / "calico.yaml").read_text().replace("  origin: extension-networking-calico",
                                                                 "  origin: operator-calico")
        publish(overlay, {"calico.yaml": mapping.encode()}, 1)
        real = module.read_overlay

        def vanished(directory):
            raise FileNotFoundError(directory / "..2026_old" / "calico.yaml")
        monkeypatch.setattr(module, "read_overlay", vanished)
        assert served.reload() == (set(), "")
        monkeypatch.setattr(module, "read_overlay", real)
        assert served.reload() == ({"calico"}, "") and served.mappings["calico"].origin == "operator-calico"
    finally:
        served.close()
