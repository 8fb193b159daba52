# CAIRN_SANITIZE applies to every target so that the standard library calls and our code agree.
if(CAIRN_SANITIZE)
  add_compile_options(-fsanitize=${CAIRN_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${CAIRN_SANITIZE})
  if(CAIRN_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC warns that TSan does not model std::atomic_thread_fence, which Asio's handler
    # recycling uses; the warning is about Asio's headers, not our code.
    add_compile_options(-Wno-tsan)
  endif()
endif()
