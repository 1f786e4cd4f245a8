# Sourced by scripts/aladin.sh and scripts/plotly.sh: fetch one file set of an npm package,
# at a pinned version, checked against the tarball's SHA-256, into a gitignored folder.
#
#   fetch_npm_asset PACKAGE VERSION SHA256 DEST WHAT_IF_MISSING FILE [FILE...]
#
# FILEs are paths inside the package (e.g. dist/aladin.js); each lands in DEST by its base
# name, with DEST/VERSION written last, so a present VERSION means a complete fetch.
# Returns 0 when DEST already holds VERSION; non-zero, with one line saying what the portal
# does without it (WHAT_IF_MISSING), when npm, the registry or the checksum fails.
fetch_npm_asset() {
  local package="$1" version="$2" sha256="$3" dest="$4" missing="$5"
  shift 5
  local first="$dest/$(basename "$1")"
  if [ -f "$first" ] && [ "$(cat "$dest/VERSION" 2>/dev/null)" = "$version" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "warning: npm not found: $missing (apt-get install npm, then rerun)" >&2
    return 1
  fi
  echo "==> fetching $package $version (npm) into ${dest#"$(pwd)/"}"
  local tmp; tmp="$(mktemp -d)"
  if ! (cd "$tmp" && npm pack --silent "$package@$version" >/dev/null 2>&1); then
    echo "warning: npm could not fetch $package@$version: $missing" >&2
    rm -rf "$tmp"; return 1
  fi
  local tgz="$tmp/$package-$version.tgz"
  if [ "$(sha256sum "$tgz" | cut -d' ' -f1)" != "$sha256" ]; then
    echo "error: $package-$version.tgz does not match its pinned SHA-256; not installed" >&2
    rm -rf "$tmp"; return 1
  fi
  local inside=() file
  for file in "$@"; do inside+=("package/$file"); done
  tar -xzf "$tgz" -C "$tmp" "${inside[@]}" &&
    mkdir -p "$dest" &&
    (cd "$tmp" && mv "${inside[@]}" "$dest/") &&
    echo "$version" > "$dest/VERSION"
  local rc=$?
  rm -rf "$tmp"
  return $rc
}
