"""kwsnum command line."""
