"""Business rules: plain functions over the models, shared by the CLI, the TUI and scripts."""
