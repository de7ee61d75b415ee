"""Images the harness builds besides the project's own: offline stand-ins for public images."""
