"""OneStop's built-in modules; each is announced through the ``onestop.modules`` entry points."""
