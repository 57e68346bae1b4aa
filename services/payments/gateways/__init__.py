"""Gateway adapters: one interface (base.Gateway), one module per gateway. They import only core."""
