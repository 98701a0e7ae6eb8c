#!/usr/bin/env bash
# Builds the real Kubernetes programs the real-cluster tests run (etcd, kube-apiserver,
# kube-controller-manager, gardener-resource-manager) from their Go modules, pinned by
# hack/tools/<module dir>/go.mod and verified against go.sum, into an ignored cache keyed by version:
#
#   .cache/bin/<name>-<version>/<name>
#
# A binary already in the cache is reused, so only a new machine pays the build. Each binary's
# --version is checked against the pin. The builds run one after another (they are CPU bound on a
# 2-core machine) and stop at the first failure with the go tool's own error.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${TEST_BINARIES_CACHE:-$ROOT/.cache/bin}"
export GOFLAGS="-mod=readonly -buildvcs=false -trimpath"
export CGO_ENABLED=0

# name | dir under hack/tools | module whose version is the cache key | main package | --version text
TOOLS=(
  "etcd|etcd|go.etcd.io/etcd/server/v3|go.etcd.io/etcd/server/v3|etcd Version: %s"
  "kube-apiserver|kubernetes|k8s.io/kubernetes|k8s.io/kubernetes/cmd/kube-apiserver|Kubernetes v%s"
  "kube-controller-manager|kubernetes|k8s.io/kubernetes|k8s.io/kubernetes/cmd/kube-controller-manager|Kubernetes v%s"
  "gardener-resource-manager|gardener-resource-manager|github.com/gardener/gardener|github.com/gardener/gardener/cmd/gardener-resource-manager|%s"
)

pinned_version() {  # the version go.mod requires for a module
  (cd "$ROOT/hack/tools/$1" && go list -m -f '{{.Version}}' "$2")
}

for entry in "${TOOLS[@]}"; do
  IFS='|' read -r name tooldir module package expect <<<"$entry"
  version="$(pinned_version "$tooldir" "$module")"
  dir="$CACHE/$name-$version"
  if [[ ! -x "$dir/$name" ]]; then
    echo "building $name $version (first run on this machine; later runs reuse $dir)" >&2
    start=$SECONDS
    mkdir -p "$dir.tmp"
    ldflags="-s -w"
    if [[ $module == k8s.io/kubernetes ]]; then
      # What Kubernetes' own build stamps, so /version and --version report the release.
      ldflags+=" -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1"
      ldflags+=" -X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"$version")"
      ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$version"
    elif [[ $name == gardener-resource-manager ]]; then
      ldflags+=" -X github.com/gardener/gardener/pkg/version.gitVersion=$version"
      ldflags+=" -X k8s.io/component-base/version.gitVersion=$version"
    fi
    (cd "$ROOT/hack/tools/$tooldir" && go build -ldflags "$ldflags" -o "$dir.tmp/$name" "$package")
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
    echo "built $name $version in $((SECONDS - start)) s" >&2
  fi
  # shellcheck disable=SC2059
  want="$(printf "$expect" "${version#v}")"
  got="$("$dir/$name" --version 2>&1 | head -3 || true)"
  if ! grep -qF -- "$want" <<<"$got"; then
    echo "$name in $dir reports '$got', expected '$want'" >&2
    exit 1
  fi
  echo "$name $version: $dir/$name"
done
