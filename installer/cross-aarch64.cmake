# CMake toolchain for 64-bit Raspberry Pi OS (aarch64) with Debian's cross compiler (g++-aarch64-linux-gnu).
# Used by installer/build-runner-aarch64.sh to build the standalone edgetune-runner (runner/CMakeLists.txt).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Debian's multiarch-less cross sysroot; never pick up host (x86-64) libraries or headers.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Raspberry Pi 4 (Cortex-A72) is the oldest 64-bit target; ARMv8-A code runs on the Pi 3, 4 and 5.
set(CMAKE_CXX_FLAGS_INIT "-march=armv8-a")
