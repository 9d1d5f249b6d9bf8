# Runs one fuzzer for a bounded time over a scratch copy of its seed corpus.
# Usage: cmake -DFUZZER=exe -DSEEDS=dir -DWORKDIR=dir -DSECONDS=n
#              [-DEXTRA=flag;flag] -P run-smoke.cmake
# Fails on any crash, leak, sanitizer report, timeout or out-of-memory; the
# reproducer is left in WORKDIR (crash-*, leak-*, timeout-*, oom-*).
foreach(v FUZZER SEEDS WORKDIR SECONDS)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run-smoke.cmake: ${v} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORKDIR})
file(MAKE_DIRECTORY ${WORKDIR}/corpus)
file(GLOB seeds ${SEEDS}/*)
if(NOT seeds)
  message(FATAL_ERROR "run-smoke.cmake: no seeds in ${SEEDS}")
endif()
file(COPY ${seeds} DESTINATION ${WORKDIR}/corpus)

execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -rss_limit_mb=2048
          -timeout=30 -print_final_stats=1 -artifact_prefix=${WORKDIR}/
          ${EXTRA} ${WORKDIR}/corpus
  RESULT_VARIABLE rc)
file(GLOB found ${WORKDIR}/crash-* ${WORKDIR}/leak-* ${WORKDIR}/timeout-*
     ${WORKDIR}/oom-*)
if(NOT rc EQUAL 0 OR found)
  message(FATAL_ERROR "fuzzer failed (exit ${rc}); reproducer: ${found}\n"
    "rerun with: ${FUZZER} ${found}")
endif()
