# -DFG_SANITIZE=ON builds everything with AddressSanitizer and UBSan.
option(FG_SANITIZE "Build with -fsanitize=address,undefined" OFF)
add_library(fg_sanitizers INTERFACE)
if(FG_SANITIZE)
  target_compile_options(fg_sanitizers INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(fg_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
