# Strict warnings on the project's own code only (never on third-party headers).
add_library(fg_warnings INTERFACE)
target_compile_options(fg_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual)
# Warnings are errors in every build but `make fuzz`'s (clang finds other things than g++, and
# the fuzz build is about crashes).
option(FG_WERROR "Treat warnings as errors" ON)
if(FG_WERROR)
  target_compile_options(fg_warnings INTERFACE -Werror)
endif()
