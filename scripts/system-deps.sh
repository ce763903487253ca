#!/usr/bin/env bash
# What some commands need beyond Node, and the tests need in full: ffmpeg and ffprobe (clips: accuracy,
# classify, parity, live, --input) and Chromium (--target chromium, the page tests). The main job, a bench on
# synthetic frames, needs neither. Installs them with apt-get where the machine has it (Debian; Ubuntu's ffmpeg),
# and otherwise names what is missing and how to get it. Exit 0 when both are there, 1 when one is still missing.
set -uo pipefail
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
have_ffmpeg() { { [ -n "${FFMPEG_PATH:-}" ] && [ -x "$FFMPEG_PATH" ]; } || { command -v ffmpeg && command -v ffprobe; } > /dev/null; }
have_chromium() { [ -x "$chromium" ]; }

want=()
have_ffmpeg || want+=(ffmpeg)
# Ubuntu's chromium package is a snap in disguise, which headless tests cannot drive from apt's path.
[ -n "${CHROMIUM_PATH:-}" ] || have_chromium || { [ -r /etc/os-release ] && grep -q '^ID=debian' /etc/os-release && want+=(chromium); }
if [ ${#want[@]} -gt 0 ] && command -v apt-get > /dev/null; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || { command -v sudo > /dev/null && sudo -n true 2> /dev/null && sudo=(sudo -n); }
  if [ "$(id -u)" -eq 0 ] || [ ${#sudo[@]} -gt 0 ]; then
    echo "system-deps: installing ${want[*]} with apt-get"
    "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${want[@]}" > /dev/null
  fi
fi

missing=0
if ! have_ffmpeg; then
  missing=1
  echo "system-deps: ffmpeg/ffprobe missing (clips need them): apt-get install ffmpeg (Debian/Ubuntu), brew install ffmpeg (macOS), winget install ffmpeg (Windows), or set FFMPEG_PATH" >&2
fi
if ! have_chromium; then
  missing=1
  echo "system-deps: Chromium missing at $chromium (--target chromium and the page tests need it): apt-get install chromium (Debian), snap install chromium then CHROMIUM_PATH=/snap/bin/chromium (Ubuntu), or set CHROMIUM_PATH to a Chromium or Chrome binary" >&2
fi
exit "$missing"
