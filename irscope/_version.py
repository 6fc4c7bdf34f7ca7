"""irscope's version, in a leaf module so that every layer (the CLI's --version too) may read it."""

__version__ = "0.1.0"
