"""The ``rag`` command's arguments: argparse with Chinese labels, usage prefix and error messages.

``build_parser()`` declares every subcommand and its options; each sets
``command`` to its name, which ``ui.cli`` maps to the function that runs it.

Deliberately not here: what the subcommands do (``ui.cli``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rag.types import SOURCE_KINDS


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


def _add_retrieval_options(p: argparse.ArgumentParser, k_help: str) -> None:
    p.add_argument("-k", type=int, default=None, help=k_help)
    p.add_argument("--region", help="只检索某地区的文章，如 四川、乐山市")
    p.add_argument("--source", action="append", help="只检索某篇文档（可重复）")
    p.add_argument("--source-type", choices=SOURCE_KINDS, help="只检索某类文档：文章 或 公文")
    p.add_argument("--json", action="store_true", help="以 JSON 输出（格式见 README）")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="rag", description="党建案例问答：导入党建文章，检索并引用原文。")
    parser.add_argument("--data-dir", help="知识库数据目录（默认读取 RAG_DATA_DIR）")
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令", title="命令",
                                parser_class=Parser)

    p = sub.add_parser("ingest", help="导入文件或目录（递归）")
    p.add_argument("paths", nargs="*", help="文件或目录；省略时导入内置示例文章")
    p.add_argument("--sync", action="store_true", help="让知识库与目录一致：新增、更新并移除已删除的文件")
    p.add_argument("-q", "--quiet", action="store_true", help="不显示进度条")
    p.set_defaults(command="ingest")

    p = sub.add_parser("sources", help="列出知识库中的文档")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.set_defaults(command="sources")

    p = sub.add_parser("remove", help="移除文档及其全部片段")
    p.add_argument("files", nargs="+", help="文档名（与 rag sources 中一致）")
    p.set_defaults(command="remove")

    p = sub.add_parser("search", help="检索最相关的片段")
    p.add_argument("query", help="问题或关键词")
    _add_retrieval_options(p, k_help="返回片段数（默认 8）")
    p.set_defaults(command="search")

    p = sub.add_parser("ask", help="提问：给出带引用的回答和原文摘录")
    p.add_argument("question", help="问题，例如 其他地方是怎么选派党建指导员的？")
    p.add_argument("--llm", help="回答模型：local、local:0.5b、openai:<模型名> 或 none（默认读取 RAG_LLM）")
    _add_retrieval_options(p, k_help="检索片段数（默认 8）")
    p.set_defaults(command="ask")

    p = sub.add_parser("cases", help="案例对比：列出涉及某个主题的全部文章，按地区给出做法和成效原文")
    p.add_argument("topic", help="主题或问题，例如 楼宇党建、其他地方是怎么选派党建指导员的？")
    p.add_argument("--region", help="只看某地区的案例，如 山东、乐山市")
    p.add_argument("--since", help="只看此日期以后的文章，如 2022、2022-06")
    p.add_argument("--llm", help="为每个案例写一句带引用的概括并总结共同做法：local、local:0.5b、openai:<模型名>；"
                                 "默认 none（只给原文）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出（格式见 README）")
    p.set_defaults(command="cases")

    p = sub.add_parser("lesson", help="备课包：把主题的案例做成讲解要点、讨论题和随堂测验（Word、PPT、Markdown）")
    p.add_argument("topic", help="主题，例如 楼宇党建、党建指导员")
    p.add_argument("--cases", type=int, default=5, help="选用的案例数（3–8，默认 5，不同省份优先）")
    p.add_argument("--region", help="只用某地区的案例，如 山东、乐山市")
    p.add_argument("--since", help="只用此日期以后的文章，如 2022")
    p.add_argument("--out", default="备课包", help="输出目录（默认 ./备课包）")
    p.add_argument("--llm", default="none", help="讲解要点和讨论题由模型归纳（每句标注并核对出处）：local、local:0.5b、"
                                                "openai:<模型名>；默认 none（直接用原文）。测验始终取自原文")
    p.add_argument("--json", action="store_true", help="以 JSON 输出（格式见 README）")
    p.set_defaults(command="lesson")

    p = sub.add_parser("serve", help="启动网页问答界面")
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1；其他地址需设置 RAG_UI_AUTH）")
    p.add_argument("--port", type=int, default=7860, help="端口（默认 7860）")
    p.add_argument("--llm", help="默认回答方式：local、local:0.5b、openai:<模型名> 或 none（界面上可切换）")
    p.set_defaults(command="serve")

    p = sub.add_parser("eval", help="评测：rag eval 数据集，或 rag eval compare 目录A 目录B")
    p.add_argument("target", nargs="+", help="数据集文件或目录（见 README）；或 compare 加两个评测输出目录")
    p.add_argument("--llm", help="回答模型：local、local:0.5b、openai:<模型名> 或 none（默认读取 RAG_LLM）")
    p.add_argument("-k", type=int, default=None, help="检索片段数（默认 8）")
    p.add_argument("--limit", type=int, default=None, help="只评测前 N 题")
    p.add_argument("--every-answerable", type=int, default=None,
                   help="只评测可回答的题中每第 N 题（从第 1 题起；CI 的本地模型门槛用 3）")
    p.add_argument("--out", help="输出目录（默认 eval_out/数据集-模型-时间）")
    p.add_argument("--kb-cache", help="自带文档的数据集的知识库缓存目录")
    p.add_argument("--docs", help="问题文件所用的文档目录（如共享评测集的 docs/），不给则用当前知识库")
    p.set_defaults(command="eval")

    p = sub.add_parser("check", help="检查并修复清单、向量库与关键词索引的一致性")
    p.add_argument("--dry-run", action="store_true", help="只检查，不修复")
    p.set_defaults(command="check")

    p = sub.add_parser("models", help="模型管理")
    msub = p.add_subparsers(dest="models_command", required=True, metavar="操作", title="操作",
                            parser_class=Parser)
    pull = msub.add_parser("pull", help="下载并校验嵌入模型和本地问答模型（首次使用时也会自动进行）")
    pull.add_argument("--chat", action="append",
                      help="要准备的本地问答模型：0.5b、1.5b 或 none（可重复；默认 RAG_LOCAL_MODEL）")
    pull.set_defaults(command="models")
    return parser
