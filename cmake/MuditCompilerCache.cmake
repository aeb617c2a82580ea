# ccache with the settings a precompiled header needs: the PCH is only reused by ccache when
# its defines and time macros are ignored, and a base dir makes hits independent of where the
# checkout lives (CI clones to a fresh path on every run).
if(MUDIT_USE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(MUDIT_CCACHE ccache)
  if(MUDIT_CCACHE)
    set(CMAKE_CXX_COMPILER_LAUNCHER
      "${CMAKE_COMMAND};-E;env;CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime;CCACHE_BASEDIR=${CMAKE_SOURCE_DIR};CCACHE_NOHASHDIR=true;${MUDIT_CCACHE}")
    message(STATUS "mudit: compiling through ${MUDIT_CCACHE}")
  endif()
endif()
