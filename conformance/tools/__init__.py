"""Tools on top of the suite: the command line, the export of test vectors, reproduction, exploration."""
