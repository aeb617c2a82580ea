# Locates LibTorch and provides the imported target `torch`.
#
# Where it looks, first hit wins:
#   1. Torch_DIR (cache or environment) or CMAKE_PREFIX_PATH, as find_package would;
#   2. MUDIT_TORCH_DIR (environment): a LibTorch or torch-wheel folder;
#   3. the `torch` package of MUDIT_PYTHON (default: the interpreter tools/bootstrap.sh sets up,
#      then python3 on PATH), through torch.utils.cmake_prefix_path.
#
# A CUDA-enabled LibTorch (the PyPI wheel) makes TorchConfig.cmake demand the CUDA toolkit. When
# nvcc is found, find_package(Torch) runs as usual; otherwise the same libraries are imported
# directly (CPU-only path): the binary still loads libtorch_cuda at run time and simply sees no GPU.
# This file is installed with mudit's package so consumers resolve LibTorch the same way.

include_guard(GLOBAL)

if(TARGET torch)
  return()
endif()

set(MUDIT_PYTHON "" CACHE FILEPATH "Python whose torch package provides LibTorch")

function(_mudit_torch_config_dir out)
  set(hints "")
  foreach(var Torch_DIR MUDIT_TORCH_DIR)
    if(DEFINED ${var} AND NOT "${${var}}" STREQUAL "")
      list(APPEND hints "${${var}}")
    endif()
    if(DEFINED ENV{${var}} AND NOT "$ENV{${var}}" STREQUAL "")
      list(APPEND hints "$ENV{${var}}")
    endif()
  endforeach()
  find_path(_dir TorchConfig.cmake
    HINTS ${hints}
    PATH_SUFFIXES share/cmake/Torch cmake/Torch Torch torch/share/cmake/Torch
    NO_CACHE)
  if(NOT _dir)
    set(pythons "${MUDIT_PYTHON}")
    if(DEFINED ENV{MUDIT_HOME})
      list(APPEND pythons "$ENV{MUDIT_HOME}/venv/bin/python3")
    endif()
    list(APPEND pythons "/opt/mudit/venv/bin/python3" "$ENV{HOME}/.local/share/mudit/venv/bin/python3")
    find_program(_sys_python python3 NO_CACHE)
    list(APPEND pythons "${_sys_python}")
    foreach(py IN LISTS pythons)
      if(py AND EXISTS "${py}")
        execute_process(
          COMMAND "${py}" -c "import torch, torch.utils; print(torch.utils.cmake_prefix_path)"
          OUTPUT_VARIABLE prefix OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
        if(rc EQUAL 0 AND EXISTS "${prefix}/Torch/TorchConfig.cmake")
          set(_dir "${prefix}/Torch")
          # Tests compare against this interpreter's Python packages (numpy, safetensors, ...).
          set(MUDIT_TORCH_PYTHON "${py}" CACHE INTERNAL "python3 whose torch provides LibTorch")
          break()
        endif()
      endif()
    endforeach()
  endif()
  set(${out} "${_dir}" PARENT_SCOPE)
endfunction()

_mudit_torch_config_dir(MUDIT_TORCH_CONFIG_DIR)
if(NOT MUDIT_TORCH_CONFIG_DIR)
  message(FATAL_ERROR
    "mudit: LibTorch not found. Run tools/bootstrap.sh (installs the PyPI torch wheel once per "
    "machine), or point Torch_DIR / CMAKE_PREFIX_PATH / MUDIT_TORCH_DIR at your own LibTorch.")
endif()

get_filename_component(MUDIT_TORCH_ROOT "${MUDIT_TORCH_CONFIG_DIR}/../../.." ABSOLUTE)
set(MUDIT_TORCH_HAS_CUDA OFF)
if(EXISTS "${MUDIT_TORCH_ROOT}/lib/libtorch_cuda.so")
  set(MUDIT_TORCH_HAS_CUDA ON)
endif()

set(MUDIT_TORCH_CUDA_PATH OFF)
if(MUDIT_TORCH_HAS_CUDA)
  find_program(MUDIT_NVCC nvcc HINTS ENV CUDA_HOME ENV CUDAToolkit_ROOT PATHS /usr/local/cuda/bin)
  if(MUDIT_NVCC)
    set(MUDIT_TORCH_CUDA_PATH ON)
    if(NOT CMAKE_CUDA_COMPILER)
      set(CMAKE_CUDA_COMPILER "${MUDIT_NVCC}")
    endif()
  endif()
endif()

if(NOT MUDIT_TORCH_HAS_CUDA OR MUDIT_TORCH_CUDA_PATH)
  set(Torch_DIR "${MUDIT_TORCH_CONFIG_DIR}")
  find_package(Torch REQUIRED CONFIG)
  set(MUDIT_TORCH_MODE "find_package")
else()
  # CPU-only path: import the libraries TorchConfig.cmake would have, without its CUDA checks.
  set(lib "${MUDIT_TORCH_ROOT}/lib")
  add_library(torch SHARED IMPORTED GLOBAL)
  set(link "${lib}/libtorch_cpu.so;${lib}/libc10.so")
  if(EXISTS "${lib}/libtorch_cuda.so")
    list(APPEND link "-Wl,--no-as-needed,${lib}/libtorch_cuda.so,--as-needed")
  endif()
  set_target_properties(torch PROPERTIES
    IMPORTED_LOCATION "${lib}/libtorch.so"
    INTERFACE_INCLUDE_DIRECTORIES
      "${MUDIT_TORCH_ROOT}/include;${MUDIT_TORCH_ROOT}/include/torch/csrc/api/include"
    INTERFACE_COMPILE_DEFINITIONS "_GLIBCXX_USE_CXX11_ABI=1"
    INTERFACE_LINK_LIBRARIES "${link}")
  set(MUDIT_TORCH_MODE "imported (no CUDA toolkit)")
endif()

# The wheel's libtorch.so and libtorch_cpu.so export copies of std::filesystem (statically
# linked from a newer libstdc++); when libtorch precedes libstdc++ in DT_NEEDED, calls such as
# std::filesystem::remove_all bind to those copies and crash. Naming libstdc++ first on every
# link line that uses torch keeps the system library in charge.
set_property(TARGET torch APPEND PROPERTY INTERFACE_LINK_OPTIONS
  "SHELL:-Wl,--push-state,--no-as-needed -lstdc++ -Wl,--pop-state")

# The wheel puts its own fmt headers into its include folder; Debian's spdlog is built against
# Debian's fmt. Sources that include spdlog never see torch's include folder (see src/).
message(STATUS "mudit: LibTorch ${MUDIT_TORCH_ROOT} [${MUDIT_TORCH_MODE}, CUDA build: ${MUDIT_TORCH_HAS_CUDA}]")
