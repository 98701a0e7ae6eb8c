# Image of gardener-extension-networking (the controller behind charts/gardener-extension-networking).
#
#   docker build -t registry.example.com/gardener/extensions/networking-controller:0.1.0 .
#
# Stage 1 builds helm from its Go module (hack/tools/helm, verified by go.sum) for the build
# platform's architecture (amd64 or arm64); stage 2 installs the package into a virtualenv; stage 3
# copies the virtualenv, helm and the data the controller reads at run time (charts/internal,
# values-mapping) into a clean slim image. Everything downloaded is pinned: base images by digest
# (golang:1.26.4-alpine, python:3.11.9-slim-bookworm), Go modules by go.sum, Python packages by
# constraints.txt.

FROM golang:1.26.4-alpine@sha256:3ad57304ad93bbec8548a0437ad9e06a455660655d9af011d58b993f6f615648 AS helm

RUN apk add --no-cache bash
WORKDIR /src
COPY hack/build-binaries.sh ./hack/
COPY hack/tools/helm ./hack/tools/helm
RUN BINARIES_CACHE=/tmp/cache bash hack/build-binaries.sh helm /usr/local/bin \
 && cp -L /usr/local/bin/helm /helm

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
COPY --from=helm /helm /opt/venv/bin/helm
# values-mapping/<type>.yaml names its charts as ../charts/internal/<type>: keep the two side by side.
COPY charts/internal /opt/gardener-extension-networking/charts/internal
COPY values-mapping /opt/gardener-extension-networking/values-mapping

USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["gardener-extension-networking"]
CMD ["run"]
