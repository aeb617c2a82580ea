# The Debian-packaged libraries of mudit::mudit. Included by the build and by the installed
# muditConfig.cmake (where each lookup goes through find_dependency).
include_guard(GLOBAL)

if(COMMAND find_dependency)
  macro(_mudit_find)
    find_dependency(${ARGN})
  endmacro()
else()
  macro(_mudit_find)
    find_package(${ARGN} REQUIRED)
  endmacro()
endif()

_mudit_find(yaml-cpp CONFIG)
_mudit_find(fmt CONFIG)
_mudit_find(spdlog CONFIG)
_mudit_find(nlohmann_json CONFIG)
_mudit_find(PkgConfig)

# libsndfile, libsoxr, libebur128, OpenCC, utf8proc, libpng and fluidsynth are found through their pkg-config files.
foreach(mod sndfile soxr libebur128 opencc libutf8proc libpng fluidsynth)
  if(NOT TARGET PkgConfig::${mod})
    pkg_check_modules(${mod} REQUIRED IMPORTED_TARGET GLOBAL ${mod})
  endif()
endforeach()

# Retrieval (mudit index / search / serve): FAISS (its exported target wants OpenMP), Argon2
# password hashes, cpp-httplib. httplib's pkg-config definitions (CPPHTTPLIB_OPENSSL_SUPPORT, ...)
# change its class layouts, so they must match the Debian build; they are given to the one
# source that includes httplib.h (src/retrieval/server.cpp), not to every user of the target.
_mudit_find(OpenMP)
_mudit_find(faiss CONFIG)
foreach(mod libargon2 cpp-httplib)
  if(NOT TARGET PkgConfig::${mod})
    pkg_check_modules(${mod} REQUIRED IMPORTED_TARGET GLOBAL ${mod})
  endif()
endforeach()
set(MUDIT_HTTPLIB_DEFINITIONS ${cpp-httplib_CFLAGS_OTHER})
set_property(TARGET PkgConfig::cpp-httplib PROPERTY INTERFACE_COMPILE_OPTIONS "")

# Optional: libespeak-ng sings the English lyric lines of the synthetic corpus; without it the
# built-in formant voice does (src/data/synth/espeak_voice.cpp).
if(NOT TARGET PkgConfig::espeak-ng)
  pkg_check_modules(espeak-ng QUIET IMPORTED_TARGET GLOBAL espeak-ng)
endif()
# fluidsynth.h needs none of the glib/SDL include folders and -D_DEFAULT_SOURCE, -pthread, ...
# that FluidSynth's pkg-config file lists; those would also invalidate the shared precompiled
# header for every source of mudit::mudit. Keep the library, drop the compile flags.
set_property(TARGET PkgConfig::fluidsynth PROPERTY INTERFACE_COMPILE_OPTIONS "")
set_property(TARGET PkgConfig::fluidsynth PROPERTY INTERFACE_INCLUDE_DIRECTORIES "")
