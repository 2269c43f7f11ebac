// /docs: Swagger UI over this server's OpenAPI document (canyu.web.docs). A file, not an inline
// script: the Content-Security-Policy allows scripts from our own files only.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.getElementById("swagger-ui").getAttribute("data-openapi"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
  });
});
