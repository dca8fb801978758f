// Starts Swagger UI on careline's own OpenAPI document. A file of its own, not an inline
// script: the page runs under the same Content Security Policy as the rest of careline.
window.ui = SwaggerUIBundle({
  url: '/api/v1/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
});
