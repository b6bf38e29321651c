"""C code generation: arrives with the C issue. The package exists so the layout is in place."""
