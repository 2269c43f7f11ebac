"""Templates, static assets and the rendering helpers shared by every domain's pages."""
