"""The mapping language: from a Network (+ shoot, feature gates, images) to chart values.

`loader` reads and checks `values-mapping/<type>.yaml`; `decode` validates the providerConfig against
the schema of that file; `engine` evaluates its ordered rules; `transforms` and `formats` are the
registries of named pure functions the files may call. The language is documented for operators in
`values-mapping/README.md`.
"""

from controller.mapping.engine import MappingResult, apply_rules
from controller.mapping.loader import TypeMapping, load_mapping, load_mappings

__all__ = ["MappingResult", "TypeMapping", "apply_rules", "load_mapping", "load_mappings"]
