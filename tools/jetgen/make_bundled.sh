#!/usr/bin/env bash
# Regenerate exactly the bundled files data/*.h5 (byte-identical with the same
# pythia8mc/numpy/h5py versions, see requirements.txt), then run the self-check.
# The file list, sizes and seeds live in jetgen.py (BUNDLE); the output does not
# depend on --workers.
#   tools/jetgen/make_bundled.sh              # one process (~2.5 min here)
#   tools/jetgen/make_bundled.sh --workers 2
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python3 "$here/jetgen.py" bundle --dir "$root/data" "$@"
python3 "$here/check.py" "$root"/data/jetclass_{train,val,test}.h5 "$root"/data/btag_{train,val,test}.h5
