# Until the top-level CMakeLists.txt adds the runner and links libssh into edgetune_core, a build folder can
# pull both in with:  cmake ... -DCMAKE_PROJECT_INCLUDE=<repo>/runner/dev-integration.cmake
# (used by the deploy engineer's build only; the lead's permanent change makes this file unnecessary).
get_property(_edgetune_deploy_integrated GLOBAL PROPERTY EDGETUNE_DEPLOY_INTEGRATED)
if(NOT _edgetune_deploy_integrated AND CMAKE_SOURCE_DIR STREQUAL PROJECT_SOURCE_DIR)
  set_property(GLOBAL PROPERTY EDGETUNE_DEPLOY_INTEGRATED TRUE)
  function(_edgetune_deploy_integrate)
    target_link_libraries(edgetune_core PUBLIC ssh)
    target_compile_definitions(edgetune_core PUBLIC EDGETUNE_HAVE_DEPLOY=1)
    foreach(t test_deploy_ssh test_deploy_cross)
      if(TARGET ${t})
        add_dependencies(${t} edgetune-runner)
      endif()
    endforeach()
  endfunction()
  find_package(libssh REQUIRED)  # here, so the imported target `ssh` is visible in every subdirectory
  # The runner needs no target of the main build, so it can be added right after project().
  add_subdirectory("${CMAKE_SOURCE_DIR}/runner" "${CMAKE_BINARY_DIR}/runner")
  cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _edgetune_deploy_integrate)
endif()
# A throwaway CLI with only the device/deploy subcommands, when the build folder holds cli-try/main.cpp.
if(EXISTS "${CMAKE_BINARY_DIR}/cli-try/main.cpp")
  function(_edgetune_deploy_cli_try)
    add_executable(edgetune-cli-deploy-try "${CMAKE_BINARY_DIR}/cli-try/main.cpp"
      "${CMAKE_SOURCE_DIR}/app/cli/cli_common.cpp" "${CMAKE_SOURCE_DIR}/app/cli/cmd_device.cpp"
      "${CMAKE_SOURCE_DIR}/app/cli/cmd_deploy.cpp")
    target_compile_options(edgetune-cli-deploy-try PRIVATE -Wall -Wextra -Wno-unused-parameter)
    target_link_libraries(edgetune-cli-deploy-try PRIVATE edgetune_core CLI11::CLI11)
    set_target_properties(edgetune-cli-deploy-try PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/bin")
  endfunction()
  cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _edgetune_deploy_cli_try)
endif()
