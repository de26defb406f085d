#!/usr/bin/env bash
# Builds the Debian package from the tree in one command: a Release build in build-pkg/ with
# install prefix /usr, `cpack -G DEB`, then lintian (fails on lintian errors, shows warnings).
# Prints the path of the .deb on stdout (everything else goes to stderr).
#   EBB_PKG_BUILD_DIR   build directory (default <root>/build-pkg)
#   EBB_PKG_NO_LINTIAN  set to skip the lintian run
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${EBB_PKG_BUILD_DIR:-$root/build-pkg}"
jobs="$(nproc 2>/dev/null || echo 2)"

# Packaging tools on top of the build deps: dpkg-shlibdeps (dpkg-dev, for the Depends line) and
# lintian (policy checks of the result).
EBB_SETUP_EXTRA="dpkg-dev lintian" "$root/scripts/setup.sh" >&2

# Debian's build flags (dpkg-buildflags: -O2, stack protector, _FORTIFY_SOURCE, relro, bindnow)
# instead of CMake's Release -O3: Debian builds at -O2, and GCC 12's -O3 raises false -Wrestrict
# errors in libstdc++'s string code under -Werror.
eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
      -DEBB_BUILD_TESTS=OFF -DEBB_SANITIZE=OFF \
      -DCMAKE_C_FLAGS_RELEASE="-DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="-DNDEBUG" \
      -DCMAKE_C_FLAGS="$CFLAGS $CPPFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS $CPPFLAGS" \
      -DCMAKE_EXE_LINKER_FLAGS="$LDFLAGS" -DCMAKE_SHARED_LINKER_FLAGS="$LDFLAGS" >&2
cmake --build "$dir" -j "$jobs" >&2
rm -f "$dir"/package/ebb_*.deb
(cd "$dir" && cpack -G DEB --config "$dir/CPackConfig.cmake" -B "$dir/package") >&2
debs=("$dir"/package/ebb_*.deb)
if [ ${#debs[@]} -ne 1 ] || [ ! -f "${debs[0]}" ]; then
  echo "package: expected one .deb in $dir/package" >&2
  exit 1
fi

if [ -z "${EBB_PKG_NO_LINTIAN:-}" ]; then
  echo "package: lintian ${debs[0]}" >&2
  lintian --fail-on error --info "${debs[0]}" >&2
fi
echo "${debs[0]}"
