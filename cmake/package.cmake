# CPack: the Debian package "ebb" (`cpack -G DEB` in a configured build tree; scripts/package.sh
# does configure + build + cpack in one command). The package always installs under /usr
# (CPACK_PACKAGING_INSTALL_PREFIX), whatever CMAKE_INSTALL_PREFIX the tree was configured with;
# /etc/ebb and /lib/systemd/system are absolute in cmake/install.cmake.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ebb)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "ebb maintainers")
set(CPACK_PACKAGE_CONTACT "ebb maintainers <maintainers@users.noreply.b-seed-57362cc9.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "load balancer and auto-scaler for HTTP and TCP services")
# Extended description: Debian control format, so no blank lines (a lone "." would be one).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"ebb-lb fronts pools of backend servers: HTTP/1.1 (keep-alive, streaming bodies,
WebSocket tunnels, host and path routes, request-smuggling defences) and TCP,
with TLS termination, six balancing algorithms, sticky sessions, active and
passive health checks, connection draining, an admin API, Prometheus metrics
and a dashboard. Configuration reloads on SIGHUP without dropping connections.
.
ebb-scaler grows and shrinks one pool from the balancer's metrics, one
instance per pool (ebb-scaler@POOL.service).")
set(CPACK_PACKAGE_DESCRIPTION "${CPACK_DEBIAN_PACKAGE_DESCRIPTION}")

set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # ebb_<version>-1_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Runtime library dependencies from dpkg-shlibdeps (package dpkg-dev), plus adduser for postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_STRIP_FILES ON)

# conffiles (the /etc/ebb examples: dpkg keeps an admin's edits on upgrade) and the maintainer
# scripts. STRICT_PERMISSION installs them 0644 / 0755 whatever the checkout's modes are.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# Packages are built from a clean staging tree owned by root:root (dpkg-deb --root-owner-group
# equivalent: CPack's own tar writer stores uid/gid 0).
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/package)
include(CPack)
