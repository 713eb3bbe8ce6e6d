# Run at every build (cmake -P): writes OUTPUT, a header defining ESP_COMMIT, from FIXED
# when given (the image build has no .git) or else from git's HEAD. The file is rewritten
# only when the commit changed, so an unchanged build recompiles nothing.
if(FIXED)
  set(commit "${FIXED}")
else()
  execute_process(
    COMMAND git rev-parse --short=12 HEAD
    WORKING_DIRECTORY "${SOURCE_DIR}"
    OUTPUT_VARIABLE commit
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
if(NOT commit)
  set(commit "unknown")
endif()
set(text "// Written by cmake/write_commit.cmake at build time.\n#pragma once\n#define ESP_COMMIT \"${commit}\"\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUTPUT}" "${text}")
endif()
