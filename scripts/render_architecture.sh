#!/usr/bin/env bash
# Render assets/architecture.png from its text source, assets/architecture.dot (Graphviz).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v dot >/dev/null; then
  echo "Graphviz 'dot' is missing: installing Debian's graphviz" >&2
  apt-get install -y -qq graphviz >/dev/null
fi
dot -Tpng -Gdpi=100 assets/architecture.dot -o assets/architecture.png
echo "wrote assets/architecture.png"
