# Fails if any kvm-interp object refers to a symbol it does not define: the
# interpreter is built into the kernel, where libc does not exist.
foreach(obj ${OBJECTS})
  execute_process(COMMAND ${NM} -u ${obj} OUTPUT_VARIABLE undefined
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "nm failed on ${obj}")
  endif()
  # Sanitizer builds add their own runtime hooks; those are not libc calls.
  string(REGEX REPLACE "[^\n]*__(asan|ubsan|sanitizer)[^\n]*\n?" "" undefined "${undefined}")
  if(NOT undefined STREQUAL "")
    message(FATAL_ERROR "${obj} needs external symbols:\n${undefined}")
  endif()
  message(STATUS "${obj}: no external symbols")
endforeach()
