"""Gardener networking extension: one generic, data-driven controller for Calico and Cilium.

The per-type knowledge lives in `charts/internal/<type>/` and `values-mapping/<type>.yaml`; the
packages here are the generic pipeline (mapping, render, package) and the Gardener contract plumbing.
"""

__version__ = "0.1.0"
