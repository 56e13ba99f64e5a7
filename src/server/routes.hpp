#pragma once
// The endpoint groups, each registered on the server's router.
#include "router.hpp"

namespace darkroom::server {

void add_native_routes(Router& router);     // /v1/jobs..., /v1/generate, /v1/capabilities, /health, /metrics
void add_websocket_routes(Router& router);  // GET /v1/ws (upgrade)
void add_openai_routes(Router& router);     // POST /v1/images/generations, GET /v1/models
void add_a1111_routes(Router& router);      // /sdapi/v1/...
void add_fal_routes(Router& router);        // /fal/run/{owner}/{app}..., /fal/queue/{owner}/{app}...
void add_novelai_routes(Router& router);    // /ai/generate-image[-stream]
void add_diffugen_routes(Router& router);   // /generate[/stable|/flux][/stream], /v1/images/generations/stream
void add_web_routes(Router& router);        // GET / (the page) and /web/{file}

}  // namespace darkroom::server
