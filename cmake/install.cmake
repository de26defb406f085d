# Install layout (`cmake --install`, and what CPack packs into the .deb), Debian FHS:
#   <prefix>/bin/ebb-lb, ebb-scaler          (the test backend is a test tool: not installed)
#   /etc/ebb/lb.toml, scaler.toml            (example configs; conffiles in the .deb)
#   /lib/systemd/system/ebb-lb.service, ebb-scaler@.service
#   <prefix>/share/man/man5, man8            (gzip -9n, as Debian policy 12.1 wants)
#   <prefix>/share/doc/ebb/                  (README.md, examples/, copyright, changelog.Debian.gz)
#   <prefix>/share/lintian/overrides/ebb     (tags that do not apply to a package built off-archive)
# /etc and the unit directory are absolute on purpose: they do not move with the prefix (a
# package built with prefix /usr still needs /etc/ebb). DESTDIR relocates them as usual.
include(GNUInstallDirs)

set(EBB_INSTALL_CONFDIR "/etc/ebb" CACHE PATH "Where the example configs are installed")
set(EBB_INSTALL_UNITDIR "/lib/systemd/system" CACHE PATH "Where the systemd units are installed")
set(EBB_INSTALL_DOCDIR "${CMAKE_INSTALL_DATADIR}/doc/ebb")

# 0755 for every directory the install creates, whatever the umask of whoever runs it.
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(_ebb_file_mode OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
set(_ebb_packaging ${PROJECT_SOURCE_DIR}/packaging)

install(TARGETS ebb-lb ebb-scaler RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(FILES ${_ebb_packaging}/examples/lb.toml ${_ebb_packaging}/examples/scaler.toml
        DESTINATION ${EBB_INSTALL_CONFDIR} PERMISSIONS ${_ebb_file_mode})

install(FILES ${_ebb_packaging}/systemd/ebb-lb.service ${_ebb_packaging}/systemd/ebb-scaler@.service
        DESTINATION ${EBB_INSTALL_UNITDIR} PERMISSIONS ${_ebb_file_mode})

# gzip -9n: best compression, no name or timestamp in the header (reproducible builds).
find_program(EBB_GZIP gzip REQUIRED)
function(_ebb_gzip src out_var)
  get_filename_component(name ${src} NAME)
  set(out ${CMAKE_BINARY_DIR}/packaging/${name}.gz)
  add_custom_command(OUTPUT ${out}
                     COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/packaging
                     COMMAND ${EBB_GZIP} -9n -c ${src} > ${out}
                     DEPENDS ${src} VERBATIM)
  set(${out_var} ${out} PARENT_SCOPE)
endfunction()

_ebb_gzip(${PROJECT_SOURCE_DIR}/man/ebb-lb.8 _ebb_man_lb)
_ebb_gzip(${PROJECT_SOURCE_DIR}/man/ebb-scaler.8 _ebb_man_scaler)
_ebb_gzip(${PROJECT_SOURCE_DIR}/man/ebb.toml.5 _ebb_man_toml)
_ebb_gzip(${_ebb_packaging}/debian/changelog _ebb_changelog)
add_custom_target(ebb_packaging_files ALL
                  DEPENDS ${_ebb_man_lb} ${_ebb_man_scaler} ${_ebb_man_toml} ${_ebb_changelog})

install(FILES ${_ebb_man_lb} ${_ebb_man_scaler} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8
        PERMISSIONS ${_ebb_file_mode})
install(FILES ${_ebb_man_toml} DESTINATION ${CMAKE_INSTALL_MANDIR}/man5 PERMISSIONS ${_ebb_file_mode})

install(FILES ${PROJECT_SOURCE_DIR}/README.md ${_ebb_packaging}/debian/copyright
        DESTINATION ${EBB_INSTALL_DOCDIR} PERMISSIONS ${_ebb_file_mode})
install(FILES ${_ebb_changelog} DESTINATION ${EBB_INSTALL_DOCDIR}
        RENAME changelog.Debian.gz PERMISSIONS ${_ebb_file_mode})
install(FILES ${_ebb_packaging}/examples/lb.toml ${_ebb_packaging}/examples/scaler.toml
        DESTINATION ${EBB_INSTALL_DOCDIR}/examples PERMISSIONS ${_ebb_file_mode})
install(FILES ${_ebb_packaging}/debian/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides
        RENAME ebb PERMISSIONS ${_ebb_file_mode})
