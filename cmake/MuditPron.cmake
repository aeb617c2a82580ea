# Pronunciation lexicons for G2P, made at build time from Debian's data by src/text/build_pron.cpp
# (C++, no torch): build/share/mudit/pron/{zh_chars.tsv, zh_words.tsv, en_words.tsv, en_lts.txt}.
# The command runs once, and again only when a source file or the tool changes.

set(MUDIT_PRON_UNIHAN "/usr/share/unicode/Unihan_Readings.txt.bz2" CACHE FILEPATH
  "Unihan readings (Debian: unicode-data)")
set(MUDIT_PRON_TERRA "/usr/share/rime-data/terra_pinyin.dict.yaml" CACHE FILEPATH
  "Rime terra_pinyin dictionary (Debian: rime-data-terra-pinyin)")
set(MUDIT_PRON_JIEBA "/usr/lib/python3/dist-packages/jieba/dict.txt" CACHE FILEPATH
  "jieba word frequencies (Debian: python3-jieba)")
set(MUDIT_PRON_CMUDICT "/usr/share/festival/dicts/cmu/cmudict-0.4.out" CACHE FILEPATH
  "CMU dictionary in Festival's format (Debian: festlex-cmu)")
set(MUDIT_PRON_CMU_LTS "/usr/share/festival/dicts/cmu/cmu_lts_rules.scm" CACHE FILEPATH
  "Festival's CMU letter-to-sound rules (Debian: festlex-cmu)")
set(MUDIT_PRON_DIR "${PROJECT_BINARY_DIR}/share/mudit/pron")

set(pron_sources "${MUDIT_PRON_UNIHAN}" "${MUDIT_PRON_TERRA}" "${MUDIT_PRON_JIEBA}"
  "${MUDIT_PRON_CMUDICT}" "${MUDIT_PRON_CMU_LTS}")
set(MUDIT_HAVE_PRON ON)
foreach(f IN LISTS pron_sources)
  if(NOT EXISTS "${f}")
    set(MUDIT_HAVE_PRON OFF)
    message(STATUS "mudit: ${f} not found: no G2P lexicon (run tools/bootstrap.sh)")
  endif()
endforeach()
find_path(MUDIT_BZLIB_INCLUDE_DIR bzlib.h DOC "libbz2 headers (Debian: libbz2-dev)")
find_library(MUDIT_BZ2_LIBRARY bz2)
if(NOT MUDIT_BZLIB_INCLUDE_DIR OR NOT MUDIT_BZ2_LIBRARY)
  set(MUDIT_HAVE_PRON OFF)
  message(STATUS "mudit: libbz2 not found (install libbz2-dev): no G2P lexicon")
endif()

if(MUDIT_HAVE_PRON)
  # The package versions go into each lexicon's header line.
  set(pron_versions "")
  foreach(pkg unicode-data rime-data-terra-pinyin python3-jieba festlex-cmu)
    execute_process(COMMAND dpkg-query -W -f=\${Version} ${pkg}
      OUTPUT_VARIABLE v ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT v)
      set(v "unknown")
    endif()
    string(APPEND pron_versions "${pkg} ${v}, ")
  endforeach()
  string(REGEX REPLACE ", $" "" pron_versions "Debian packages: ${pron_versions}")

  add_executable(mudit_build_pron "${PROJECT_SOURCE_DIR}/src/text/build_pron.cpp")
  target_include_directories(mudit_build_pron PRIVATE "${MUDIT_BZLIB_INCLUDE_DIR}"
    "${PROJECT_SOURCE_DIR}/include")
  target_link_libraries(mudit_build_pron PRIVATE PkgConfig::opencc "${MUDIT_BZ2_LIBRARY}")

  set(pron_outputs "${MUDIT_PRON_DIR}/zh_chars.tsv" "${MUDIT_PRON_DIR}/zh_words.tsv"
    "${MUDIT_PRON_DIR}/en_words.tsv" "${MUDIT_PRON_DIR}/en_lts.txt")
  add_custom_command(OUTPUT ${pron_outputs}
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${MUDIT_PRON_DIR}"
    COMMAND mudit_build_pron "${MUDIT_PRON_DIR}" ${pron_sources} "${pron_versions}"
    DEPENDS mudit_build_pron ${pron_sources}
    COMMENT "Building the G2P lexicons in ${MUDIT_PRON_DIR}"
    VERBATIM)
  add_custom_target(mudit_pron ALL DEPENDS ${pron_outputs})
  install(FILES ${pron_outputs} DESTINATION "${CMAKE_INSTALL_DATADIR}/mudit/pron")
endif()
