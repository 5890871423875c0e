"""argparse with Chinese labels, usage prefix and error messages, for the ``rag`` command.

Deliberately not here: the subcommands (``ui.cli``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


class Formatter(argparse.HelpFormatter):
    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, prefix="用法：" if prefix is None else prefix)


class Parser(argparse.ArgumentParser):
    """argparse with its own labels and errors in Chinese."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", help="显示帮助并退出")

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(2, f"错误：{message}（用 {self.prog} -h 查看用法）\n")
