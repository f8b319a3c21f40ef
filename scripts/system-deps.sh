#!/usr/bin/env bash
# System libraries hoirecon needs beyond Python packages: open3d loads libusb-1.0.so.0.
set -euo pipefail
if ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0'; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing the Debian package libusb-1.0-0 (open3d needs libusb-1.0.so.0)" >&2
  (apt-get install -y -qq libusb-1.0-0 >/dev/null 2>&1) || (apt-get update -qq >/dev/null && apt-get install -y -qq libusb-1.0-0 >/dev/null)
  exit 0
fi
echo "error: open3d needs libusb-1.0.so.0: install it first (Debian/Ubuntu: sudo apt-get install libusb-1.0-0; Fedora: sudo dnf install libusb1)" >&2
exit 1
