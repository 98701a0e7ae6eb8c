#!/usr/bin/env bash
# Builds the programs the project runs from their published Go modules, pinned by
# hack/tools/<module dir>/go.mod and verified against go.sum (the module proxy's answers are checked
# against the checksum database when go.sum is written), for the machine's own OS and architecture
# (x86-64 and arm64 alike), into an ignored cache keyed by version:
#
#   .cache/bin/<name>-<version>/<name>
#
#   hack/build-binaries.sh tools [BINDIR]   helm (v4), helm3, kubectl; linked into BINDIR when given
#   hack/build-binaries.sh helm [BINDIR]    helm (v4) only: what the controller image needs
#   hack/build-binaries.sh test             etcd, kube-apiserver, kube-controller-manager,
#                                           gardener-resource-manager (the real-cluster tests)
#
# A binary already in the cache is reused, so only a new machine pays the build. Each binary's
# version output is checked against the pin. The builds run one after another (they are CPU bound on
# a 2-core machine) and stop at the first failure with the go tool's own error.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${BINARIES_CACHE:-$ROOT/.cache/bin}"
export GOFLAGS="-mod=readonly -buildvcs=false -trimpath"
export CGO_ENABLED=0

# name | dir under hack/tools | module whose version is the cache key | main package | version text
TOOLS=(
  "helm|helm|helm.sh/helm/v4|helm.sh/helm/v4/cmd/helm|v%s"
  "helm3|helm3|helm.sh/helm/v3|helm.sh/helm/v3/cmd/helm|v%s"
  "kubectl|kubernetes|k8s.io/kubernetes|k8s.io/kubernetes/cmd/kubectl|v%s"
)
TEST=(
  "etcd|etcd|go.etcd.io/etcd/server/v3|go.etcd.io/etcd/server/v3|etcd Version: %s"
  "kube-apiserver|kubernetes|k8s.io/kubernetes|k8s.io/kubernetes/cmd/kube-apiserver|Kubernetes v%s"
  "kube-controller-manager|kubernetes|k8s.io/kubernetes|k8s.io/kubernetes/cmd/kube-controller-manager|Kubernetes v%s"
  "gardener-resource-manager|gardener-resource-manager|github.com/gardener/gardener|github.com/gardener/gardener/cmd/gardener-resource-manager|%s"
)

pinned_version() {  # the version go.mod requires for a module
  (cd "$ROOT/hack/tools/$1" && go list -m -f '{{.Version}}' "$2")
}

ldflags() {  # what each project's own release build stamps into the binary
  local name=$1 module=$2 version=$3 dir=$4 flags="-s -w"
  case $module in
    k8s.io/kubernetes)
      flags+=" -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1"
      flags+=" -X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"$version")"
      flags+=" -X k8s.io/client-go/pkg/version.gitVersion=$version" ;;
    github.com/gardener/gardener)
      flags+=" -X github.com/gardener/gardener/pkg/version.gitVersion=$version"
      flags+=" -X k8s.io/component-base/version.gitVersion=$version" ;;
    helm.sh/helm/*)
      local major=${module##*/} client_go
      flags+=" -X helm.sh/helm/$major/internal/version.version=$version"
      if [[ $major == v3 ]]; then  # helm 3 takes its default Kubernetes version from the client-go it is built with
        client_go="$(cd "$ROOT/hack/tools/$dir" && go list -m -f '{{.Version}}' k8s.io/client-go)"
        flags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1"
        flags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(cut -d. -f2 <<<"$client_go")"
      fi ;;
  esac
  echo "$flags"
}

version_output() {
  case $1 in
    helm|helm3) "$2" version --template '{{ .Version }}' ;;
    kubectl) "$2" version --client ;;
    *) "$2" --version 2>&1 | head -3 ;;
  esac
}

case "${1:-}" in
  tools) entries=("${TOOLS[@]}") ;;
  helm) entries=("${TOOLS[0]}") ;;
  test) entries=("${TEST[@]}") ;;
  *) echo "usage: $0 tools|helm [BINDIR] | test" >&2; exit 2 ;;
esac
bindir="${2:-}"

for entry in "${entries[@]}"; do
  IFS='|' read -r name tooldir module package expect <<<"$entry"
  version="$(pinned_version "$tooldir" "$module")"
  dir="$CACHE/$name-$version"
  if [[ ! -x "$dir/$name" ]]; then
    echo "building $name $version (first run on this machine; later runs reuse $dir)" >&2
    start=$SECONDS
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    (cd "$ROOT/hack/tools/$tooldir" && go build -ldflags "$(ldflags "$name" "$module" "$version" "$tooldir")" \
      -o "$dir.tmp/$name" "$package")
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
    echo "built $name $version in $((SECONDS - start)) s" >&2
  fi
  # shellcheck disable=SC2059
  want="$(printf "$expect" "${version#v}")"
  got="$(version_output "$name" "$dir/$name" || true)"
  if ! grep -qF -- "$want" <<<"$got"; then
    echo "$name in $dir reports '$got', expected '$want'" >&2
    exit 1
  fi
  if [[ -n $bindir ]]; then
    mkdir -p "$bindir"
    ln -sfn "$dir/$name" "$bindir/$name"
  fi
  echo "$name $version: $dir/$name"
done
