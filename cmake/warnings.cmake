# Strict warnings on the project's own code only (never on third-party headers).
add_library(fg_warnings INTERFACE)
target_compile_options(fg_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Werror)
