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
