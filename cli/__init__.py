"""Command-line interface of gep (`gep --help`)."""
