"""The ``rag`` command: thin subcommands over the library, messages in Chinese.

The command line is a user interface, so it lives in ``ui/``, the outermost
layer: it wires ``ingest`` (for ``rag ingest``, uploads and ``rag eval``'s own
documents) and ``eval`` into the library calls of ``rag``. Each subcommand
imports what it needs when it runs, so ``rag --help`` is instant and nothing
heavy (torch, Chroma) loads for commands that do not use it.

Exit codes: 0 success, 1 some input failed (e.g. a file could not be
ingested), 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.data import sample_dir
from rag.errors import RagError
from ui.cli_parser import Parser as _Parser

SAMPLE_QUESTION = "楼宇党建是怎么做的？"


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    return Settings(**overrides)


def _kb(settings: Settings) -> Any:
    from rag.knowledge import KnowledgeBase

    return KnowledgeBase(settings)


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def cmd_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ingest.pipeline import discover, ingest_paths

    settings = _settings(args)
    paths = [Path(p) for p in args.paths] or [sample_dir()]
    files, missing = discover(paths)
    kb = _kb(settings)
    with tqdm(total=len(files) + len(missing), desc="导入", unit="个文件", file=sys.stderr,
              disable=args.quiet) as bar:
        def on_file(outcome: Any) -> None:
            if outcome.status == "failed":
                tqdm.write(f"失败  {outcome.error}", file=sys.stderr)
            if outcome.status != "removed":
                bar.update(1)
        report = ingest_paths(kb, paths, sync=args.sync, on_file=on_file)
    files_seen = len(report.outcomes) - report.count("removed")
    print(f"文件数 {files_seen}：新增 {report.count('added')}，更新 {report.count('updated')}，"
          f"未变 {report.count('unchanged')}，失败 {report.count('failed')}"
          + (f"，移除 {report.count('removed')}" if args.sync else "")
          + f"；片段数 {report.chunks}；用时 {report.seconds:.1f} 秒")
    return 1 if report.failed else 0


def cmd_sources(args: argparse.Namespace) -> int:
    rows = _kb(_settings(args)).sources()
    if args.json:
        _print_json({"documents": [r.to_json() for r in rows]})
        return 0
    if not rows:
        print("知识库为空。用 rag ingest 文件或目录 导入资料。")
        return 0
    for r in rows:
        print(f"{r.source}\n  标题：{r.title}\n  地区：{'、'.join(r.regions) or '（未识别）'}\n"
              f"  片段：{r.chunks}    导入时间：{r.ingested_at}")
    print(f"共 {len(rows)} 篇文档，{sum(r.chunks for r in rows)} 个片段。")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    kb = _kb(_settings(args))
    missing = 0
    with kb.write_lock():
        for source in args.files:
            if kb.remove(source):
                print(f"已移除 {source}")
            else:
                missing += 1
                print(f"知识库中没有 {source}（用 rag sources 查看文档名）", file=sys.stderr)
    return 1 if missing else 0


def cmd_search(args: argparse.Namespace) -> int:
    from rag.retrieval import search

    hits = search(_kb(_settings(args)), args.query, k=args.k, region=args.region, sources=args.source)
    if args.json:
        _print_json({"query": args.query, "results": [h.to_json() for h in hits],
                     "timings_ms": {k: round(v, 1) for k, v in hits.timings_ms.items()}})
        return 0
    if not hits:
        print("没有找到相关片段。")
    for i, h in enumerate(hits, 1):
        c = h.chunk
        print(f"[{i}] {c.source}  《{c.title}》  字符 {c.start}–{c.end}  得分 {h.score:.3f}")
        if c.regions:
            print(f"    地区：{'、'.join(c.regions)}")
        print("    " + c.text.replace("\n", "\n    "))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.chain import ask_stream

    kb = _kb(_settings(args))
    stream = sys.stdout.isatty() and not args.json
    answer = None
    for event in ask_stream(kb, args.question, llm=args.llm, k=args.k, region=args.region,
                            sources=args.source):
        if event.kind == "evidence" and stream and event.evidence:
            print("原文摘录：")
            _print_citations(event.evidence)
            print("\n回答：", flush=True)
        elif event.kind == "token" and stream:
            print(event.token, end="", flush=True)
        elif event.answer is not None:
            answer = event.answer
    assert answer is not None
    if args.json:
        _print_json(answer.to_json())
        return 0
    if stream:
        print("\n")
    if answer.notice:
        print(f"提示：{answer.notice}")
    print(answer.text if not stream or answer.refused or answer.llm == "none" else f"（核对后）{answer.text}")
    if answer.citations:
        print("\n引用出处：")
        _print_citations(answer.citations)
    ms = answer.timings_ms
    print(f"\n（{answer.llm}；检索 {ms.get('retrieve', 0) / 1000:.1f} 秒，共 {ms.get('total', 0) / 1000:.1f} 秒）")
    return 0


def _print_citations(citations: Any) -> None:
    from rag.compose import regions_text

    for c in citations:
        place = regions_text(c)
        print(f"[{c.n}] {c.source}  《{c.title}》  {place}  第 {c.start}–{c.end} 字")
        print(f"    “{c.quote}”")


def cmd_check(args: argparse.Namespace) -> int:
    kb = _kb(_settings(args))
    with kb.write_lock():
        report = kb.check(repair=not args.dry_run, full=True)
    if report.ok:
        print(f"检查通过：清单、向量库和关键词索引一致（{report.chunks} 个片段）。")
        return 0
    verb = "已修复" if report.repaired else "发现"
    keyword = f"；关键词索引：{report.keyword_problem}{'，已重建' if report.repaired else ''}" \
        if report.keyword_problem else ""
    print(f"{verb}：多余向量 {report.orphan_vectors} 个，缺失向量 {report.missing_vectors} 个{keyword}。")
    if not report.repaired:
        print("运行 rag check（不加 --dry-run）即可修复。")
    return 0 if report.repaired else 1


def cmd_models(args: argparse.Namespace) -> int:
    from rag.embeddings import get_embeddings
    from rag.models import resolve_chat_model

    settings = _settings(args)
    emb = get_embeddings(settings)
    print(f"嵌入模型已就绪：{settings.embedding_model}（{emb.dimension} 维），模型目录 {settings.models_dir}")
    for name in args.chat or [settings.local_model]:
        if name != "none":
            path = resolve_chat_model(name, settings.models_dir)
            print(f"本地问答模型已就绪：{path}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ingest.pipeline import ingest_paths
    from rag.llm import parse_llm
    from ui.serve import serve

    settings = _settings(args)
    if args.llm:
        settings = settings.model_copy(update={"llm": args.llm})
    parse_llm(settings.llm, settings)  # a clear error before anything loads
    serve(_kb(settings), ingest_paths, host=args.host, port=args.port,
          say=lambda line: print(line, flush=True))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from eval.commands import compare_command, eval_command
    from ingest.pipeline import ingest_paths

    if args.target[0] == "compare":
        return compare_command(args.target[1:], args.out)
    if len(args.target) != 1:
        raise RagError("用法：rag eval 数据集 [选项]，或 rag eval compare 评测目录A 评测目录B")
    return eval_command(Path(args.target[0]), _settings(args), lambda kb, paths: ingest_paths(kb, paths),
                        llm=args.llm, k=args.k, limit=args.limit, out=args.out, kb_cache=args.kb_cache)


def _add_retrieval_options(p: argparse.ArgumentParser, k_help: str) -> None:
    p.add_argument("-k", type=int, default=None, help=k_help)
    p.add_argument("--region", help="只检索某地区的文章，如 四川、乐山市")
    p.add_argument("--source", action="append", help="只检索某篇文档（可重复）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出（格式见 README）")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rag", description="党建案例问答：导入党建文章，检索并引用原文。")
    parser.add_argument("--data-dir", help="知识库数据目录（默认读取 RAG_DATA_DIR）")
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令", title="命令",
                                parser_class=_Parser)

    p = sub.add_parser("ingest", help="导入文件或目录（递归）")
    p.add_argument("paths", nargs="*", help="文件或目录；省略时导入内置示例文章")
    p.add_argument("--sync", action="store_true", help="让知识库与目录一致：新增、更新并移除已删除的文件")
    p.add_argument("-q", "--quiet", action="store_true", help="不显示进度条")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("sources", help="列出知识库中的文档")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("remove", help="移除文档及其全部片段")
    p.add_argument("files", nargs="+", help="文档名（与 rag sources 中一致）")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("search", help="检索最相关的片段")
    p.add_argument("query", help="问题或关键词")
    _add_retrieval_options(p, k_help="返回片段数（默认 8）")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="提问：给出带引用的回答和原文摘录")
    p.add_argument("question", help="问题，例如 其他地方是怎么选派党建指导员的？")
    p.add_argument("--llm", help="回答模型：local、local:0.5b、openai:<模型名> 或 none（默认读取 RAG_LLM）")
    _add_retrieval_options(p, k_help="检索片段数（默认 8）")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("serve", help="启动网页问答界面")
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1；其他地址需设置 RAG_UI_AUTH）")
    p.add_argument("--port", type=int, default=7860, help="端口（默认 7860）")
    p.add_argument("--llm", help="默认回答方式：local、local:0.5b、openai:<模型名> 或 none（界面上可切换）")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("eval", help="评测：rag eval 数据集，或 rag eval compare 目录A 目录B")
    p.add_argument("target", nargs="+", help="数据集文件或目录（见 README）；或 compare 加两个评测输出目录")
    p.add_argument("--llm", help="回答模型：local、local:0.5b、openai:<模型名> 或 none（默认读取 RAG_LLM）")
    p.add_argument("-k", type=int, default=None, help="检索片段数（默认 8）")
    p.add_argument("--limit", type=int, default=None, help="只评测前 N 题")
    p.add_argument("--out", help="输出目录（默认 eval_out/数据集-模型-时间）")
    p.add_argument("--kb-cache", help="自带文档的数据集的知识库缓存目录")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("check", help="检查并修复清单、向量库与关键词索引的一致性")
    p.add_argument("--dry-run", action="store_true", help="只检查，不修复")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("models", help="模型管理")
    msub = p.add_subparsers(dest="models_command", required=True, metavar="操作", title="操作",
                            parser_class=_Parser)
    pull = msub.add_parser("pull", help="下载并校验嵌入模型和本地问答模型（首次使用时也会自动进行）")
    pull.add_argument("--chat", action="append",
                      help="要准备的本地问答模型：0.5b、1.5b 或 none（可重复；默认 RAG_LOCAL_MODEL）")
    pull.set_defaults(func=cmd_models)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "k", None) is not None and args.k < 1:
        print("错误：-k 必须是正整数", file=sys.stderr)
        return 2
    from pydantic import ValidationError

    try:
        return int(args.func(args))
    except ValidationError as err:
        fields = "、".join(f"RAG_{str(e['loc'][0]).upper()}（{e['msg']}）" for e in err.errors())
        print(f"配置错误：{fields}", file=sys.stderr)
        return 2
    except RagError as err:
        print(f"错误：{err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断。已完成的文件已保存，再次运行会从中断处继续。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
