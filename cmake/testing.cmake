# Unit tests: CppUTest binaries with one ctest entry per TEST_GROUP, so the summary names what
# failed (`unit.<group>`, label `unit`).
function(fg_add_unit_tests target)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
  pkg_check_modules(CPPUTEST REQUIRED IMPORTED_TARGET cpputest)
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE ${ARG_LIBRARIES} PkgConfig::CPPUTEST fg_warnings fg_sanitizers)
  # CppUTest's macros trip some of the stricter warnings; keep the rest.
  target_compile_options(${target} PRIVATE -Wno-old-style-cast -Wno-sign-conversion -Wno-conversion)
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  foreach(f IN LISTS ARG_SOURCES)
    # TEST_GROUP(name) and TEST_GROUP_BASE(name, base) both name a group.
    file(STRINGS ${f} _groups REGEX "^TEST_GROUP(_BASE)?\\(")
    foreach(g IN LISTS _groups)
      string(REGEX REPLACE "^TEST_GROUP(_BASE)?\\(([A-Za-z0-9_]+)[,)].*" "\\2" _name "${g}")
      add_test(NAME unit.${_name} COMMAND ${target} -v -sg ${_name})
      set_tests_properties(unit.${_name} PROPERTIES TIMEOUT 120 LABELS unit)
      if(FG_SANITIZER_ENV)
        set_tests_properties(unit.${_name} PROPERTIES ENVIRONMENT "${FG_SANITIZER_ENV}")
      endif()
    endforeach()
  endforeach()
endfunction()
