# Warnings are errors in our own code; third-party and generated code are compiled without them.
function(cairn_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
    -Wunused -Woverloaded-virtual -Wconversion -Wsign-conversion
    -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough -Werror)
  # GCC 12 at -O3 (Release) reports -Wrestrict overlaps of exabytes at negative offsets inside
  # libstdc++'s std::string copies (operator+ with a literal, insert, replace) wherever they are
  # inlined, in 18 of our files: GCC bug 105329, a GCC 12 regression. Only that diagnostic, only
  # for GCC 12; every other warning stays an error.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12
     AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
endfunction()
