#!/bin/sh
# The lab's HTML report is checked in headless Chromium: Debian's package, installed once (nothing downloads at run time).
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the HTML report test..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null && exit 0
fi
echo "warning: chromium is missing (apt-get install chromium); the HTML report test will fail" >&2
