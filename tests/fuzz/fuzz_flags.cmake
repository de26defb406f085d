# Included by the root CMakeLists.txt when EBB_FUZZ=ON, before any library is defined: every
# library the fuzzers link (and llhttp) is compiled with libFuzzer's coverage instrumentation
# and ASan+UBSan; the fuzz executables add -fsanitize=fuzzer at link (tests/fuzz/CMakeLists.txt).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR
    "EBB_FUZZ=ON needs clang (libFuzzer is part of clang), but the compilers are "
    "${CMAKE_C_COMPILER_ID}/${CMAKE_CXX_COMPILER_ID} (${CMAKE_CXX_COMPILER}). Configure a separate "
    "tree with -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 (scripts/fuzz.sh does), "
    "or leave EBB_FUZZ off (the gcc trees replay the fuzz corpora as CTest tests).")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                    -fno-omit-frame-pointer -g)
add_link_options(-fsanitize=address,undefined)
