# -DDARKROOM_SANITIZE=address|thread|undefined instruments every target of the build.
if(DARKROOM_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address)
elseif(DARKROOM_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread)
  add_link_options(-fsanitize=thread)
elseif(DARKROOM_SANITIZE STREQUAL "undefined")
  # GCC's "undefined" group leaves out float-cast-overflow (a float too large for, or NaN converted to, an
  # integer type is undefined); pixel and schedule code makes such conversions, so it is checked as well.
  add_compile_options(-fsanitize=undefined,float-cast-overflow -fno-sanitize-recover=all)
  add_link_options(-fsanitize=undefined,float-cast-overflow)
elseif(NOT DARKROOM_SANITIZE STREQUAL "")
  message(FATAL_ERROR "DARKROOM_SANITIZE must be address, thread or undefined, not '${DARKROOM_SANITIZE}'")
endif()
