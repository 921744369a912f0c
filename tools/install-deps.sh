#!/usr/bin/env bash
# Installs everything libqsim needs to build, test and run its demo on a
# fresh Debian 12 machine (as root, or through sudo when run as a user).
set -euo pipefail
# Not root: re-run through sudo (a fresh root shell needs no sudo at all).
if [ "$(id -u)" -ne 0 ]; then
  exec sudo --preserve-env=QSIM_ORT_DIR "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q \
  gcc g++ clang libclang-rt-14-dev meson ninja-build pkgconf cmake \
  libprotobuf-c-dev protobuf-c-compiler libjansson-dev libcmocka-dev libonnx-dev \
  zlib1g-dev abigail-tools valgrind doxygen \
  python3-numpy python3-onnx python3-torch python3-torchvision \
  dataset-fashion-mnist ca-certificates
# Node.js and npm come with the machine image (nodesource build; Debian's
# npm package conflicts with it).
# onnxruntime (reference runtime for interop tests and benchmarks only; never
# a dependency of the library). Its install script fetches GPU files we do
# not need, hence --ignore-scripts.
ORT_DIR=${QSIM_ORT_DIR:-/opt/ort}
if [ ! -d "$ORT_DIR/node_modules/onnxruntime-node" ]; then
  mkdir -p "$ORT_DIR"
  (cd "$ORT_DIR" && npm install --silent --no-audit --no-fund --ignore-scripts onnxruntime-node)
fi
