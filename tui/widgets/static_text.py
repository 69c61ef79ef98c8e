"""Provides ``update_static``: new text in a Static without laying the screen out again when
the Static's size cannot change."""

from __future__ import annotations

from textual.visual import VisualType
from textual.widgets import Static


def has_fixed_size(static: Static) -> bool:
    """Whether the Static's size does not depend on its text: a height of so many lines and a
    width that is not ``auto``."""
    height, width = static.styles.height, static.styles.width
    return height is not None and height.is_cells and (width is None or not width.is_auto)


def update_static(static: Static, content: VisualType) -> None:
    """Show ``content`` in ``static``.

    Textual lays the whole screen out again after every ``Static.update`` unless told not to:
    for the header's clock and the panes' title lines, that is a layout of every widget each
    second for a line whose size never changes. A Static whose size follows its text (a
    problems line of ``height: auto``) still gets its layout.
    """
    static.update(content, layout=not has_fixed_size(static))
