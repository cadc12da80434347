#!/usr/bin/env bash
# Builds the native TensorFlow addon of @tensorflow/tfjs-node (or, with --gpu, of
# @tensorflow/tfjs-node-gpu) against the TensorFlow C API inside PyPI's TensorFlow 2.21.0 wheel,
# instead of the libtensorflow 2.9.1 download of the package's own installer (an unreachable host).
#
#   bash scripts/setup-tensorflow.sh            # CPU: tensorflow-cpu==2.21.0 -> @tensorflow/tfjs-node
#   bash scripts/setup-tensorflow.sh --gpu      # GPU: tensorflow[and-cuda]==2.21.0 -> @tensorflow/tfjs-node-gpu
#   options: --dry-run (print the steps, change nothing), --force (redo every step), --check (also
#            load the addon when everything is in place)
#
# Steps (each skipped when its result is in place; a second run does nothing and takes well under
# a second):
#   1. pip download the pinned wheel into .cache/tensorflow/wheels, verify its sha256 (below)
#   2. take out libtensorflow_cc.so.2 + libtensorflow_framework.so.2 (strip --strip-unneeded) and the
#      14 headers the binding includes, into .cache/tensorflow/<cpu|gpu>/{lib,include}
#   3. --gpu: the CUDA 12 libraries (nvidia-*-cu12 wheels, pinned with hashes in
#      scripts/tensorflow/requirements-cuda.txt) into .cache/tensorflow/cuda/nvidia/*/lib
#   4. lay them out in node_modules/@tensorflow/<pkg>/deps/{lib,include}: hard links to the cache
#      (a copy where links cannot be made; never symlinks: glibc resolves $ORIGIN to the link's
#      folder), the linker names libtensorflow.so / libtensorflow_framework.so, and the marker
#      libtensorflow.so.2.9.1 that keeps the package's install script from downloading anything;
#      --gpu: deps/nvidia -> the CUDA libraries (TensorFlow's own runpath looks there; bin/runner.js
#      also puts them on LD_LIBRARY_PATH)
#   5. build the addon offline: node-pre-gyp --build-from-source, npm's bundled node-gyp, the local
#      Node headers (npm_config_nodedir); a built addon is kept in the cache, so after `npm ci`
#      (which empties node_modules) steps 4-5 take a few seconds
#   6. check that it loads: import the package and multiply two matrices
# Environment: RUNNER_TF_CACHE (default .cache/tensorflow).
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
root=$PWD

TF_VERSION=2.21.0
# One wheel per variant, whatever the local Python: only its C libraries and headers are used.
CPU_WHEEL=tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl
CPU_SHA256=2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c
GPU_WHEEL=tensorflow-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl
GPU_SHA256=9056fbc9ba04235810b71ae6cbd958a196e8804fb53bbcffbf3e23b56155f124
HEADERS=(
  tensorflow/c/c_api.h tensorflow/c/c_api_macros.h tensorflow/c/eager/c_api.h
  tensorflow/c/tf_attrtype.h tensorflow/c/tf_buffer.h tensorflow/c/tf_datatype.h
  tensorflow/c/tf_status.h tensorflow/c/tf_tensor.h tensorflow/c/tf_tstring.h
  tensorflow/core/platform/ctstring.h tensorflow/core/platform/ctstring_internal.h
  tsl/platform/ctstring.h tsl/platform/ctstring_internal.h xla/tsl/c/tsl_status.h
)
LIBS=(libtensorflow_cc.so.2 libtensorflow_framework.so.2)

variant=cpu dry=0 force=0 check=0
for arg in "$@"; do
  case "$arg" in
    --gpu) variant=gpu ;;
    --cpu) variant=cpu ;;
    --dry-run) dry=1 ;;
    --force) force=1 ;;
    --check) check=1 ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup-tensorflow: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

if [ "$variant" = gpu ]; then
  pkg=@tensorflow/tfjs-node-gpu wheel=$GPU_WHEEL sha=$GPU_SHA256 requirement="tensorflow==$TF_VERSION"
else
  pkg=@tensorflow/tfjs-node wheel=$CPU_WHEEL sha=$CPU_SHA256 requirement="tensorflow-cpu==$TF_VERSION"
fi
cache=${RUNNER_TF_CACHE:-$root/.cache/tensorflow}
pkgdir=$root/node_modules/$pkg
extracted=$cache/$variant
cuda=$cache/cuda
cuda_req=$root/scripts/tensorflow/requirements-cuda.txt

say() { echo "setup-tensorflow: $*" >&2; }
die() { echo "setup-tensorflow: error: $*" >&2; exit 1; }
run() { if [ "$dry" = 1 ]; then printf '+'; printf ' %q' "$@"; echo; else "$@"; fi; }
elapsed() { echo "$((SECONDS - t0))s"; }
t0=$SECONDS

[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] ||
  die "PyPI's TensorFlow wheels used here are for Linux x86-64; this is $(uname -s)-$(uname -m)"
[ -f "$pkgdir/package.json" ] ||
  die "$pkg is not installed: run 'npm ci --ignore-scripts' (or 'npm run setup') first"

# What the addon depends on: the wheel, the Node ABI, the package version, this script's layout.
# Also gives the addon's path as node-pre-gyp (and so the package) finds it.
read -r node_abi addon < <(cd "$pkgdir" && node -e '
  const p = require("path"), r = require.resolve("@mapbox/node-pre-gyp", { paths: [process.cwd()] });
  console.log(process.versions.modules, require(r).find(p.resolve("package.json")));')
pkg_version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pkgdir/package.json" | head -1)
key="layout=1 tensorflow=$TF_VERSION wheel=$sha node_abi=$node_abi $pkg=$pkg_version"
[ "$variant" = gpu ] && key="$key cuda=$(sha256sum "$cuda_req" | cut -c1-16)"
stamp=$pkgdir/deps/.runner-tensorflow
# the addon this key built, kept in the cache (restored after `npm ci`; an addon that differs from
# it, e.g. Google's prebuilt one fetched by an `npm rebuild` with scripts, is replaced)
built=$extracted/addon/$(echo "$key" | sha256sum | cut -c1-16)/tfjs_binding.node

in_place() {
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] && [ -f "$addon" ] && cmp -s "$addon" "$built" &&
    [ -e "$pkgdir/deps/lib/libtensorflow.so.2.9.1" ] && [ -e "$pkgdir/deps/lib/libtensorflow_framework.so" ] &&
    { [ "$variant" = cpu ] || [ -d "$pkgdir/deps/nvidia/cuda_runtime/lib" ]; }
}

# Lists the CUDA library folders, one per line (for LD_LIBRARY_PATH).
cuda_lib_dirs() { for d in "$cuda"/nvidia/*/lib; do if [ -d "$d" ]; then echo "$d"; fi; done; }

# Imports the package and multiplies two matrices; prints what it found.
check_load() {
  local env=()
  if [ "$variant" = gpu ]; then
    env=(LD_LIBRARY_PATH="$(cuda_lib_dirs | paste -sd:)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
  fi
  run env "${env[@]}" TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" node --input-type=module -e "
    import tf from '$pkg';
    const b = tf.backend(), y = await tf.matMul([[1, 2], [3, 4]], [[5, 6], [7, 8]]).array();
    if (tf.getBackend() !== 'tensorflow' || JSON.stringify(y) !== '[[19,22],[43,50]]')
      throw new Error('unexpected result ' + tf.getBackend() + ' ' + JSON.stringify(y));
    console.error('setup-tensorflow: ok: $pkg loads TensorFlow ' + b.binding.TF_Version +
      ', device ' + (b.isUsingGpuDevice ? 'GPU' : 'CPU') + ', matmul correct');
    if ('$variant' === 'gpu' && !b.isUsingGpuDevice) console.error('setup-tensorflow: note: ' +
      'TensorFlow sees no GPU here (it needs an NVIDIA driver for CUDA 12 or newer); the GPU build runs on the CPU');"
}

if [ "$force" = 0 ] && in_place; then
  [ "$check" = 1 ] && check_load
  [ "$dry" = 1 ] && say "$pkg: everything in place, nothing to do"
  exit 0
fi

for tool in python3 strip g++ make; do
  command -v "$tool" >/dev/null || die "'$tool' is missing (Debian: apt-get install python3-pip binutils g++ make)"
done
python3 -m pip --version >/dev/null 2>&1 || die "pip is missing (Debian: apt-get install python3-pip)"
nodedir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
[ -f "$nodedir/include/node/node_api.h" ] ||
  die "Node's headers are not in $nodedir/include/node (node_api.h); install them with your Node (Debian: apt-get install libnode-dev), since they are never downloaded here"
node_gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
[ -f "$node_gyp" ] || die "npm's bundled node-gyp is not at $node_gyp"

mkdir -p "$cache"
if [ "$dry" = 0 ] && command -v flock >/dev/null; then exec 9>"$cache/.lock"; flock 9; fi  # one at a time
say "setting up $pkg with TensorFlow $TF_VERSION ($variant); cache: ${cache#$root/}"

# 1-2. The libraries and headers, taken out of the wheel once.
if [ "$force" = 1 ] || [ "$(cat "$extracted/.wheel-sha256" 2>/dev/null)" != "$sha" ]; then
  whl=$cache/wheels/$wheel
  if [ ! -f "$whl" ] || [ "$force" = 1 ]; then
    say "downloading $requirement from PyPI ($wheel)"
    run python3 -m pip download --quiet --no-deps --no-cache-dir --only-binary=:all: \
      --implementation cp --python-version 3.11 --platform manylinux_2_27_x86_64 \
      --dest "$cache/wheels" "$requirement"
  fi
  say "verifying sha256 of $wheel"
  if [ "$dry" = 0 ]; then
    echo "$sha  $whl" | sha256sum --check --status ||
      { rm -f "$whl"; die "sha256 of $wheel is not $sha (removed it; run again to download it anew)"; }
  fi
  say "extracting ${LIBS[*]} (stripped) and ${#HEADERS[@]} headers"
  run rm -rf "$extracted" "$extracted.tmp"
  run mkdir -p "$extracted.tmp/lib" "$extracted.tmp/include"
  for lib in "${LIBS[@]}"; do
    # unpacked into a temporary file, stripped into the cache, temporary file removed: one big copy
    run python3 -c 'import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 24)' "$whl" "tensorflow/$lib" "$extracted.tmp/$lib.full"
    run strip --strip-unneeded -o "$extracted.tmp/lib/$lib" "$extracted.tmp/$lib.full"
    run rm -f "$extracted.tmp/$lib.full"
  done
  run python3 -c 'import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for h in sys.argv[3:]:
        out = os.path.join(sys.argv[2], h); os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "wb") as f: f.write(z.read("tensorflow/include/" + h))' \
    "$whl" "$extracted.tmp/include" "${HEADERS[@]}"
  if [ "$dry" = 0 ]; then echo "$sha" > "$extracted.tmp/.wheel-sha256"; fi
  run mv "$extracted.tmp" "$extracted"
  [ "$dry" = 1 ] || say "libraries ready ($(du -sh "$extracted" | cut -f1), $(elapsed))"
fi

# 3. CUDA libraries for the GPU build.
if [ "$variant" = gpu ]; then
  req_sha=$(sha256sum "$cuda_req" | cut -d' ' -f1)
  if [ "$force" = 1 ] || [ "$(cat "$cuda/.requirements-sha256" 2>/dev/null)" != "$req_sha" ]; then
    say "installing the CUDA 12 libraries (nvidia-*-cu12 wheels, about 2.8 GB) into ${cuda#$root/}"
    run rm -rf "$cuda" "$cuda.tmp"
    # py3-none-manylinux wheels: this machine's own platform tags select them
    run python3 -m pip install --quiet --no-deps --no-cache-dir --no-compile --require-hashes \
      --only-binary=:all: --target "$cuda.tmp" -r "$cuda_req"
    # only the shared libraries (and ptxas/nvlink for XLA) are needed: headers and static libraries go
    if [ "$dry" = 0 ]; then
      find "$cuda.tmp/nvidia" \( -name include -o -name '*.a' \) -prune -exec rm -rf {} +
      echo "$req_sha" > "$cuda.tmp/.requirements-sha256"
    fi
    run mv "$cuda.tmp" "$cuda"
  fi
fi

# 4. The layout @tensorflow/tfjs-node(-gpu) links and loads.
say "laying out $pkg/deps"
run rm -rf "$pkgdir/deps" "$pkgdir/lib" "$pkgdir/build"
run mkdir -p "$pkgdir/deps/lib"
for lib in "${LIBS[@]}"; do
  run ln "$extracted/lib/$lib" "$pkgdir/deps/lib/$lib" 2>/dev/null || run cp "$extracted/lib/$lib" "$pkgdir/deps/lib/$lib"
done
run ln -s libtensorflow_cc.so.2 "$pkgdir/deps/lib/libtensorflow.so"
run ln -s libtensorflow_framework.so.2 "$pkgdir/deps/lib/libtensorflow_framework.so"
run ln -s libtensorflow_cc.so.2 "$pkgdir/deps/lib/libtensorflow.so.2.9.1"   # the install script's marker
run cp -R "$extracted/include" "$pkgdir/deps/include"
if [ "$variant" = gpu ]; then run ln -s "$cuda/nvidia" "$pkgdir/deps/nvidia"; fi

# 5. The addon: built once per key, then restored from the cache.
if [ -f "$built" ] && [ "$force" = 0 ]; then
  say "restoring the addon built before (${built#$root/})"
  run mkdir -p "$(dirname "$addon")"
  run cp "$built" "$addon"
else
  say "building the addon from source (node-gyp, Node headers from $nodedir)"
  # disturl to a closed port: should node-gyp ever want to download headers, it fails at once
  pre_gyp=$(cd "$pkgdir" && node -p 'require.resolve("@mapbox/node-pre-gyp/bin/node-pre-gyp", { paths: [process.cwd()] })')
  run env npm_config_nodedir="$nodedir" npm_config_node_gyp="$node_gyp" \
    npm_config_disturl=http://127.0.0.1:9 npm_config_dist_url=http://127.0.0.1:9 JOBS="$(nproc)" \
    node "$pre_gyp" install --directory="$pkgdir" --build-from-source --update-binary=false --loglevel=warn
  [ "$dry" = 1 ] || [ -f "$addon" ] || die "the build finished without $addon"
  run rm -rf "$pkgdir/build"
  run rm -rf "$extracted/addon"
  run mkdir -p "$(dirname "$built")"
  run cp "$addon" "$built"
fi

# 6. Does it load?
check_load
if [ "$dry" = 0 ]; then echo "$key" > "$stamp"; fi
say "done in $(elapsed)"
