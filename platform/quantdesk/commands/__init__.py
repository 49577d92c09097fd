"""Sub-commands of the ``quantdesk`` CLI, one module per group; ``quantdesk.cli`` mounts them."""
