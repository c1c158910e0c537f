# -DFG_SANITIZE=ON builds everything with AddressSanitizer (LeakSanitizer included) and UBSan.
# -fno-sanitize-recover=all: the first finding aborts the program, so a test that meets one fails
# (UBSan would otherwise print and carry on). The tests run with FG_SANITIZER_ENV (below).
option(FG_SANITIZE "Build with -fsanitize=address,undefined" OFF)
add_library(fg_sanitizers INTERFACE)
set(FG_SANITIZER_ENV "")
if(FG_SANITIZE)
  target_compile_options(fg_sanitizers INTERFACE -fsanitize=address,undefined -fno-sanitize-recover=all
                                                 -fno-omit-frame-pointer)
  target_link_options(fg_sanitizers INTERFACE -fsanitize=address,undefined -fno-sanitize-recover=all)
  # What every test process (and what it starts) runs with: halt on the first report, leaks
  # checked at exit, a non-zero exit code either way; the harness also reads the logs.
  set(FG_SANITIZER_ENV
    "ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1"
    "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87"
    "LSAN_OPTIONS=exitcode=88:suppressions=${CMAKE_SOURCE_DIR}/cmake/lsan.supp")
endif()

# -DFG_FUZZ=ON (clang only, with FG_SANITIZE): coverage for libFuzzer on everything built, so the
# fuzz targets (tests/fuzz/) see into the library code. `make fuzz` configures build-fuzz/ so.
option(FG_FUZZ "Build the libFuzzer targets (clang)" OFF)
if(FG_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "FG_FUZZ needs clang (CXX=clang++)")
  endif()
  target_compile_options(fg_sanitizers INTERFACE -fsanitize=fuzzer-no-link)
endif()
