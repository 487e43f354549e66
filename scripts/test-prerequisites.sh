#!/usr/bin/env bash
# The Debian packages `npm test` needs, ensured before anything is built:
#   - the shellcheck package: test/deploy lints every deploy script, the fake cloud CLI, .ci/run and this script;
#   - the chromium package: test/dashboard drives the dashboard page in Debian's headless Chromium
#     (/usr/bin/chromium; playwright-core launches it and downloads no browser).
# Missing ones are installed when that needs no password (root, or sudo -n); otherwise the script
# stops at once with the one command that installs them, so no minutes are spent building first.
set -euo pipefail

missing=()
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
# The browser tests launch this exact path, so a chromium elsewhere on PATH would not do.
[[ -x "${TEST_PREREQ_CHROMIUM:-/usr/bin/chromium}" ]] || missing+=(chromium)
(( ${#missing[@]} == 0 )) && exit 0

install_command="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "npm test needs the Debian packages ${missing[*]}, and this machine has no apt-get." >&2
  echo "Install shellcheck and a Chromium at /usr/bin/chromium with your package manager, then run npm test again." >&2
  exit 1
fi

as_root=()
if [[ "$(id -u)" != "0" ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    as_root=(sudo -n)
  else
    echo "npm test needs the Debian packages ${missing[*]}, and installing them needs root." >&2
    echo "Run:  sudo sh -c '${install_command}'" >&2
    echo "then run npm test again." >&2
    exit 1
  fi
fi

echo "npm test: installing the missing Debian packages ${missing[*]} (apt-get)" >&2
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
