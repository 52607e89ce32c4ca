# Sourced by the setup scripts: points pip at this machine's configured package index.
# Machines built for this project carry a local index (pip's extra-index-url = file://...) and
# no route to PyPI; there pip would retry PyPI for every package, so the local index becomes the
# only one and retries are off. Elsewhere nothing changes and pip uses PyPI as usual.
_pip_extra=$(python3 -m pip config get global.extra-index-url 2>/dev/null || true)
case "$_pip_extra" in
  file://*)
    export PIP_INDEX_URL=${_pip_extra%% *}
    export PIP_EXTRA_INDEX_URL=${_pip_extra#"$PIP_INDEX_URL"}
    export PIP_RETRIES=0 ;;
esac
export PIP_DISABLE_PIP_VERSION_CHECK=1
unset _pip_extra

# Runs a command, dropping from its stderr only pip's line for each package that an extra file://
# index has no folder for ("WARNING: Location 'file:///…/simple/<pkg>/' is ignored: it is neither
# a file nor a directory." — hundreds per install). Everything else passes through unchanged
# (stdout to stdout, other stderr lines to stderr); returns the command's own exit status.
without_pip_location_warnings() {
  { "$@" 2>&1 1>&3 3>&- | { grep -v -E "^WARNING: Location 'file://[^']*' is ignored: it is neither a file nor a directory\.$" >&2 || true; }; } 3>&1
  return "${PIPESTATUS[0]}"
}
