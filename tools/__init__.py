"""Maintainer tools: notebook template, re-running notebooks to store their outputs."""
