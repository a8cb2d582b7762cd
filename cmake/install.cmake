# Install rules and packaging (included from CMakeLists.txt when SSMC_IO is on).
#
# `cmake --install BUILD [--prefix P]` installs:
#   bin/ssmc, bin/ssmc-emulator, bin/session-manager-plugin -> ssmc
#   lib/libssmc.a, include/ssmc/*.hpp (public headers only; nothing from src/)
#   lib/cmake/ssmc/ (find_package(ssmc CONFIG): target ssmc::ssmc)
#   lib/pkgconfig/ssmc.pc
#   share/man/man1/{ssmc,ssmc-emulator}.1, session-manager-plugin.1 -> ssmc.1
#   share/bash-completion/completions/{ssmc,ssmc-emulator}
#   share/zsh/vendor-completions/_ssmc
#   share/doc/ssmc/ (README, the user docs and the library guide, examples/*.cpp)
# `make package` (cpack) turns the same tree under /usr into ssmc_<ver>_<arch>.deb.

include(CMakePackageConfigHelpers)

set(SSMC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ssmc)
set(SSMC_STAGE ${CMAKE_BINARY_DIR}/packaging)   # generated files and links, installed from here

# ---------------------------------------------------------------- programs
# Never replace someone else's session-manager-plugin (e.g. AWS's official
# one, which its installer links into /usr/local/bin) without being asked:
# stop before installing anything unless it is our own link or
# SSMC_REPLACE_PLUGIN=1 is set in the environment.
install(CODE "
  set(plugin \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/session-manager-plugin\")
  if((EXISTS \"\${plugin}\" OR IS_SYMLINK \"\${plugin}\") AND NOT \"\$ENV{SSMC_REPLACE_PLUGIN}\")
    set(ours FALSE)
    if(IS_SYMLINK \"\${plugin}\")
      file(READ_SYMLINK \"\${plugin}\" link)
      if(link STREQUAL \"ssmc\")
        set(ours TRUE)
      endif()
    endif()
    if(NOT ours)
      message(FATAL_ERROR \"\${plugin} exists and is not ssmc's link; not replacing it. \"
                          \"Move it away, or set SSMC_REPLACE_PLUGIN=1 to replace it.\")
    endif()
  endif()")
install(TARGETS ssmc ssmc-emulator RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# `session-manager-plugin`: ssmc acts as the AWS CLI's plugin under that name
# (protocol spec 07). Relative symlinks, made here and installed as links.
file(MAKE_DIRECTORY ${SSMC_STAGE})
file(CREATE_LINK ssmc ${SSMC_STAGE}/session-manager-plugin SYMBOLIC)
install(FILES ${SSMC_STAGE}/session-manager-plugin DESTINATION ${CMAKE_INSTALL_BINDIR})

# ---------------------------------------------------------------- library
install(TARGETS ssmc_lib EXPORT ssmcTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
# CMake strips programs for `cmake --install --strip` and CPack, not archives;
# drop the archive's debug info then too (RelWithDebInfo: ~280 MB -> ~25 MB).
install(CODE "
  if(CMAKE_INSTALL_DO_STRIP)
    execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-debug
      \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/$<TARGET_FILE_NAME:ssmc_lib>\"
      COMMAND_ERROR_IS_FATAL ANY)
  endif()")
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/ssmc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(FILES ${CMAKE_BINARY_DIR}/include/ssmc/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ssmc)

install(EXPORT ssmcTargets NAMESPACE ssmc:: DESTINATION ${SSMC_CMAKE_DIR} FILE ssmcTargets.cmake)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/ssmcConfig.cmake.in ${SSMC_STAGE}/ssmcConfig.cmake
                              INSTALL_DESTINATION ${SSMC_CMAKE_DIR})
# 0.x: a minor release may break the API, so only the same MAJOR.MINOR matches.
write_basic_package_version_file(${SSMC_STAGE}/ssmcConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${SSMC_STAGE}/ssmcConfig.cmake ${SSMC_STAGE}/ssmcConfigVersion.cmake DESTINATION ${SSMC_CMAKE_DIR})

# pkg-config: libssmc.a is static, so every dependency goes into Libs/Requires
# (not .private). Boost ships no .pc files; its libraries are named directly.
# The prefix is computed from the .pc file's own location, so the file stays
# right wherever the tree is installed (cmake --install --prefix, DESTDIR, .deb).
file(RELATIVE_PATH SSMC_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" SSMC_PC_TO_PREFIX "${SSMC_PC_TO_PREFIX}")
set(SSMC_PC_REQUIRES "libssl libcrypto")
string(REPLACE ";" " -D" SSMC_PC_CFLAGS "-D${SSMC_PUBLIC_DEFINITIONS}")
if(SSMC_STATIC_RUNTIME)
  string(APPEND SSMC_PC_CFLAGS " -DFMT_HEADER_ONLY=1")   # fmt::fmt-header-only
else()
  string(APPEND SSMC_PC_REQUIRES " fmt")
endif()
configure_file(${CMAKE_SOURCE_DIR}/cmake/ssmc.pc.in ${SSMC_STAGE}/ssmc.pc @ONLY)
install(FILES ${SSMC_STAGE}/ssmc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# ---------------------------------------------------------------- man pages, completions, docs
# Hand-written roff (docs/man/*.1.in); only the version is filled in.
set(SSMC_MAN_DIR ${CMAKE_INSTALL_MANDIR}/man1)
foreach(page ssmc ssmc-emulator)
  configure_file(${CMAKE_SOURCE_DIR}/docs/man/${page}.1.in ${SSMC_STAGE}/${page}.1 @ONLY)
  install(FILES ${SSMC_STAGE}/${page}.1 DESTINATION ${SSMC_MAN_DIR})
endforeach()
file(CREATE_LINK ssmc.1 ${SSMC_STAGE}/session-manager-plugin.1 SYMBOLIC)
install(FILES ${SSMC_STAGE}/session-manager-plugin.1 DESTINATION ${SSMC_MAN_DIR})

# bash-completion loads completions/<command>; one script serves both programs.
install(FILES ${CMAKE_SOURCE_DIR}/packaging/completion/ssmc.bash RENAME ssmc
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
file(CREATE_LINK ssmc ${SSMC_STAGE}/ssmc-emulator.bash-completion SYMBOLIC)
install(FILES ${SSMC_STAGE}/ssmc-emulator.bash-completion RENAME ssmc-emulator
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/completion/_ssmc
        DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)

install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/usage.md ${CMAKE_SOURCE_DIR}/docs/emulator.md
              ${CMAKE_SOURCE_DIR}/docs/library.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples FILES_MATCHING PATTERN "*.cpp")

# ---------------------------------------------------------------- CPack: the .deb
set(SSMC_PACKAGE_MAINTAINER "ssmc maintainers <maintainers@users.noreply.r-seed-85252dea.example>"
    CACHE STRING "Maintainer field of the .deb")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ssmc)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${SSMC_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "AWS Systems Manager Session Manager client and session-manager-plugin")
set(CPACK_PACKAGE_DESCRIPTION
"ssmc opens AWS Systems Manager Session Manager sessions: interactive shells,
one-off commands with separate stdout/stderr and exit status, port forwards
and SSH tunnels, with automatic reconnection. It is also a drop-in
session-manager-plugin for `aws ssm start-session` (installed as
/usr/bin/session-manager-plugin, a link to ssmc).
.
The package also contains ssmc-emulator, a local fake of the SSM API, the
message gateway and an agent for tests and demos, and the static C++
library libssmc.a with its headers, CMake package and pkg-config file.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)            # ssmc_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)             # Depends from dpkg-shlibdeps
set(CPACK_DEBIAN_PACKAGE_SUGGESTS
    "awscli, libboost1.81-dev, libboost-json1.81-dev, libboost-url1.81-dev, libssl-dev, libfmt-dev")
# preinst: refuse to replace a /usr/bin/session-manager-plugin that no package owns.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_SOURCE_DIR}/packaging/deb/preinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/build/" "/\\\\.git/")
include(CPack)
