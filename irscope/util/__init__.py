"""Small helpers every layer shares: atomic file writes, progress lines, text formatting, timing loops.

This package sits at the bottom of the layering (with `irscope.ir` and `irscope.errors`): it imports
nothing from irscope but `irscope.errors`, so that any layer may use it.
"""
